import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApi, type TestApi } from '../utils/api';
import { startGoogleEmulator, type Emulator } from '../utils/provider-emulators';
import { createIntegration, peerIntegration, query } from '../utils/refresh-fixtures';

/**
 * Hostile or broken token-endpoint answers through the real API and a provider emulator (design 6b): a body
 * beyond 1 MiB is refused unread, an answer's text (error_description, an absurd `error`) reaches events and
 * last_error only as its shape, and a redirect is never followed.
 */

const MIB = 1024 * 1024;
const LEAKED = 'ya29.a0AfB_byC7kLq3x9ZT2mVwPq8sRr4uN6yHj0eGd1cXbVa5';

describe('hostile provider answers', () => {
  let api: TestApi;
  let google: Emulator;

  beforeAll(async () => {
    google = await startGoogleEmulator();
    api = await startTestApi();
    await createIntegration(api, peerIntegration(google, 'google', 'google'));
  });
  afterAll(async () => {
    await api?.close();
    await google?.close();
  });

  /** A connection whose access token is valid for an hour: a forced refresh shows the classification. */
  async function connection(externalId: string): Promise<string> {
    const res = await api.call('POST', '/v1/connections', {
      integration: 'google',
      tenant_id: 'tenant-hostile',
      external_id: externalId,
      refresh_token: google.issue(),
      access_token: `valid-${externalId}`,
      expires_in: 3600,
    });
    if (res.status !== 201) throw new Error(`connection not imported: ${res.status} ${res.raw}`);
    return res.body.id as string;
  }

  /** Everything the vault keeps about a connection that an answer could have leaked into. */
  async function kept(id: string): Promise<{ text: string; sealedBytes: number; events: unknown[] }> {
    const conn = (await api.call('GET', `/v1/connections/${id}`)).body;
    const events = (await api.call('GET', `/v1/connections/${id}/events`)).body.data as unknown[];
    const [row] = await query<{ sealed: number; last_error: number; events: number; reason: string | null }>(
      api.db.url,
      `SELECT length(c.access_token_sealed) AS sealed, octet_length(c.last_error::text) AS last_error,
              (SELECT max(octet_length(detail::text)) FROM connection_events e WHERE e.connection_id = c.id) AS events,
              i.status_reason AS reason
         FROM connections c JOIN integrations i ON i.id = c.integration_id WHERE c.id = $1`,
      [id],
    );
    if (!row) throw new Error('connection row missing');
    expect(row.last_error).toBeLessThan(400);
    expect(row.events).toBeLessThan(600);
    return { text: JSON.stringify({ conn, events, reason: row.reason }), sealedBytes: row.sealed, events };
  }

  it('a 2 MiB answer is a provider_error answer_too_large, read no further and stored nowhere', async () => {
    const id = await connection('huge');
    google.faults.push({
      status: 200,
      body: { access_token: 'A'.repeat(2 * MIB), token_type: 'Bearer', expires_in: 3600 },
    });
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'provider_error', called_provider: true });
    expect((await api.call('GET', `/v1/connections/${id}`)).body.last_error).toMatchObject({
      class: 'provider_error',
      code: 'answer_too_large',
      http_status: 200,
    });
    const { text, sealedBytes } = await kept(id);
    expect(sealedBytes).toBeLessThan(1024); // still the imported token, sealed
    expect(text).not.toContain('AAAAAAAA');
    const served = await api.call('GET', `/v1/connections/${id}/token`);
    expect(served.body.access_token).toBe('valid-huge');
  });

  it('an error_description holding a token and a 5 KB `error` reach events and last_error only as their shape', async () => {
    const id = await connection('hostile-text');
    const error = `${LEAKED} `.repeat(100);
    expect(error.length).toBeGreaterThan(5000);
    google.faults.push({
      status: 400,
      body: { error, error_description: `refresh token ${LEAKED} is bad <script>alert(1)</script>` },
    });
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'provider_error' });
    const { text, events } = await kept(id);
    expect(text).not.toContain(LEAKED);
    expect(text).not.toContain('alert(1)');
    expect(text).not.toContain('is bad');
    expect((await api.call('GET', `/v1/connections/${id}`)).body.last_error).toEqual({
      class: 'provider_error',
      code: 'malformed_error_code',
      http_status: 400,
      at: expect.any(String),
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'refresh_failed',
        detail: expect.objectContaining({
          code: 'malformed_error_code',
          shape: 'json{error,error_description}',
        }),
      }),
    );
  });

  it('a token-like error_description on invalid_grant is not kept either', async () => {
    const id = await connection('reauth-text');
    google.faults.push({
      status: 400,
      body: { error: 'invalid_grant', error_description: `Token ${LEAKED} has been expired or revoked.` },
    });
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'reauth_required' });
    const { text } = await kept(id);
    expect(text).toContain('needs_reauth');
    expect(text).not.toContain(LEAKED);
    expect(text).not.toContain('expired or revoked');
  });

  describe('a redirecting token endpoint', () => {
    let target: Server;
    let hits = 0;

    beforeAll(async () => {
      // Where the redirect points: it would answer a valid token to anyone who follows.
      target = createServer((req, res) => {
        hits++;
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ access_token: 'followed-redirect', token_type: 'Bearer', expires_in: 3600 }),
        );
      });
      await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      target.closeAllConnections();
      await new Promise((resolve) => target.close(resolve));
    });

    it.each([307, 302, 308])(
      'a %i is a provider_error redirect_refused; the redirect is not followed',
      async (status) => {
        const id = await connection(`redirect-${status}`);
        const location = `http://127.0.0.1:${(target.address() as AddressInfo).port}/token`;
        google.faults.push({ status, headers: { location } });
        const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
        expect(forced.body).toMatchObject({ outcome: 'provider_error', called_provider: true });
        expect((await api.call('GET', `/v1/connections/${id}`)).body.last_error).toMatchObject({
          class: 'provider_error',
          code: 'redirect_refused',
          http_status: status,
        });
        expect(hits).toBe(0);
        expect((await api.call('GET', `/v1/connections/${id}/token`)).body.access_token).toBe(
          `valid-redirect-${status}`,
        );
      },
    );
  });
});
