import { createDefaultRegistry } from '@vault/providers';
import { buildRefreshCall } from './refresh-request';
import { T0, rowOf } from './testing/fakes';

/** A cipher whose "sealed" values are the plaintexts, checked against the field they are opened for. */
const cipher = {
  open: (sealed: Buffer, aad: string) => Promise.resolve(`${sealed.toString()}@${aad.split(':').pop()}`),
};
const providers = createDefaultRegistry();
const build = (integration: Parameters<typeof rowOf>[1]) =>
  buildRefreshCall(
    rowOf({}, integration),
    'scheduled',
    5_000,
    cipher,
    providers,
    () => 'a1',
    () => T0,
  );

describe('the refresh request during a client secret rotation', () => {
  it('carries the previous secret while its overlap lasts, the current one first', async () => {
    const call = await build({
      clientSecretSealed: Buffer.from('new'),
      previousClientSecretSealed: Buffer.from('old'),
      previousSecretValidUntil: new Date(T0 + 1),
    });
    expect(call.request.clientSecret).toBe('new@client_secret');
    expect(call.previousSecretRequest).toEqual({
      ...call.request,
      clientSecret: 'old@previous_client_secret',
    });
  });

  it('has no fallback once the overlap has ended, or without a previous secret', async () => {
    const ended = await build({
      previousClientSecretSealed: Buffer.from('old'),
      previousSecretValidUntil: new Date(T0),
    });
    expect(ended.previousSecretRequest).toBeNull();
    expect((await build({})).previousSecretRequest).toBeNull();
  });
});
