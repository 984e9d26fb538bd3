import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { sendWebhook } from '@vault/core';
import { createOutboundFetch } from '@vault/providers';
import { readBody } from '../utils/provider-emulators';

/**
 * The README's receiver snippet, run as written against a delivery signed by the vault's own sender: it accepts
 * a fresh delivery and refuses a tampered one, one with another secret, and one replayed after 5 minutes.
 */
type Verify = (rawBody: string, header: unknown, secret: string, nowSeconds?: number) => boolean;

function readmeSnippet(): Verify {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((code) => code.includes('function verifyVaultSignature'));
  if (!block) throw new Error('README has no verifyVaultSignature snippet');
  const sandbox: Record<string, unknown> = { require, Buffer };
  runInNewContext(`${block}\nthis.verify = verifyVaultSignature;`, sandbox);
  return sandbox.verify as Verify;
}

describe('webhook signature verification (README snippet)', () => {
  const SECRET = 'whsec_readme_0123456789abcdef';
  let received: { headers: IncomingHttpHeaders; raw: string } | undefined;
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      received = { headers: req.headers, raw };
      res.end('ok');
    });
  });

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts a fresh delivery, refuses a tampered, foreign or replayed one (older than 5 minutes)', async () => {
    const verify = readmeSnippet();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await sendWebhook(
      createOutboundFetch({ production: false, allowedPrivateHosts: [] }),
      url,
      SECRET,
      {
        type: 'connection.needs_reauth',
        occurredAt: new Date().toISOString(),
        data: { connection_id: 'c1' },
      },
      'delivery-1',
    );
    const d = received as { headers: IncomingHttpHeaders; raw: string };
    const header = d.headers['x-vault-signature'];
    const t = Number(/t=(\d+)/.exec(String(header))?.[1]);

    expect(verify(d.raw, header, SECRET)).toBe(true);
    expect(verify(d.raw, header, SECRET, t + 299)).toBe(true);
    expect(verify(d.raw.replace('c1', 'c2'), header, SECRET)).toBe(false);
    expect(verify(d.raw, header, 'whsec_someone_else_0123456789')).toBe(false);
    expect(verify(d.raw, header, SECRET, t + 301)).toBe(false);
    expect(verify(d.raw, header, SECRET, t - 301)).toBe(false);
    expect(verify(d.raw, undefined, SECRET)).toBe(false);
  });
});
