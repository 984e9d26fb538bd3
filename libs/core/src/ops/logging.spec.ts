import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS } from './logging';

describe('log redaction', () => {
  function capture(): { lines: string[]; logger: pino.Logger } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    return { lines, logger: pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream) };
  }

  it('removes authorization headers, tokens and secrets wherever the paths name them', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer vk_SECRET-KEY', cookie: 'session=SECRET-COOKIE' } },
        grant: { access_token: 'SECRET-AT', refresh_token: 'SECRET-RT' },
        integration: { client_secret: 'SECRET-CS', clientSecret: 'SECRET-CS2' },
        tokens: { accessToken: 'SECRET-AT2', refreshToken: 'SECRET-RT2' },
        access_token: 'SECRET-TOP',
      },
      'request',
    );
    const out = lines.join('');
    expect(out).not.toContain('SECRET');
    expect(out).toContain('[redacted]');
    expect(JSON.parse(out)).toMatchObject({ grant: { access_token: '[redacted]' }, msg: 'request' });
  });
});
