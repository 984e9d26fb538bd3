import { startTestApi, type TestApi } from '../utils/api';
import { startGoogleEmulator, startSlackEmulator, type Emulator } from '../utils/provider-emulators';
import {
  createIntegration,
  eventTypes,
  expectFlaggedInvalidGrant,
  importStale,
  importValid,
  peerIntegration,
} from '../utils/refresh-fixtures';

/**
 * The refresh engine end to end (API in-process, real PostgreSQL and Redis) against the Google and Slack
 * token-endpoint emulators: what each provider's answers do to the stored grant and the connection status.
 * Scenarios that slow a provider down get their own integration, so the slow-down stays local to them.
 */

/** Presents a refresh token to the emulator directly, as a third party would: is it still alive there? */
async function emulatorAccepts(emulator: Emulator, refreshToken: string): Promise<boolean> {
  const res = await fetch(emulator.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${emulator.clientId}:${emulator.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = (await res.json()) as { ok?: boolean; access_token?: string };
  return res.status === 200 && body.ok !== false && typeof body.access_token === 'string';
}

describe('refresh through the API against the Google and Slack emulators', () => {
  let api: TestApi;
  let google: Emulator;
  let slack: Emulator;

  beforeAll(async () => {
    [google, slack] = await Promise.all([startGoogleEmulator(), startSlackEmulator()]);
    api = await startTestApi({ PROVIDER_TIMEOUT_MS: '5000' });
    for (const key of ['google', 'google-rl']) {
      await createIntegration(api, peerIntegration(google, key, 'google'));
    }
    for (const key of ['slack', 'slack-rl']) {
      await createIntegration(api, peerIntegration(slack, key, 'slack'));
    }
  });
  afterAll(async () => {
    await api?.close();
    await Promise.all([google?.close(), slack?.close()]);
  });

  describe('google', () => {
    it('keeps the stored refresh token when the answer has none: two forced refreshes use the same RT', async () => {
      const rt = google.issue();
      const id = await importStale(api, 'google', rt, 'g-keep');
      const before = google.calls;

      const first = await api.call('POST', `/v1/connections/${id}/refresh`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ outcome: 'success', status: 'active', called_provider: true });
      const second = await api.call('POST', `/v1/connections/${id}/refresh`);
      expect(second.body).toMatchObject({ outcome: 'success', status: 'active', called_provider: true });

      expect(google.calls - before).toBe(2);
      expect(google.callsFor(rt)).toBe(2);
      const events = await api.call('GET', `/v1/connections/${id}/events`);
      const refreshed = (events.body.data as { type: string; detail: { rotated: boolean } }[]).filter(
        (e) => e.type === 'refreshed',
      );
      expect(refreshed.map((e) => e.detail.rotated)).toEqual([false, false]);

      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(200);
      expect(read.body.access_token).toMatch(/^ya29\.a0/);
      expect(read.body.token_type).toBe('Bearer');
      expect(google.calls - before).toBe(2); // the fresh token is served without another call
    });

    it('a revoked refresh token → 409 reauth_required (invalid_grant) on read, status needs_reauth', async () => {
      const rt = google.issue();
      const id = await importStale(api, 'google', rt, 'g-revoked');
      google.revoke(rt);

      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(409);
      expect(read.body).toMatchObject({ error: 'reauth_required', reason: 'invalid_grant' });
      expect(read.raw).not.toContain(rt);
      await expectFlaggedInvalidGrant(api, id);
      expect(google.callsFor(rt)).toBe(1);
    });

    it('Workspace session control (invalid_rapt) → needs_reauth with the sub-code in the reason', async () => {
      const rt = google.issue({ raptRequired: true });
      const id = await importStale(api, 'google', rt, 'g-rapt');

      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(409);
      expect(read.body.error).toBe('reauth_required');
      expect(read.body.reason).toContain('invalid_rapt');
      const conn = await api.call('GET', `/v1/connections/${id}`);
      expect(conn.body.status).toBe('needs_reauth');
      expect(conn.body.status_reason).toContain('invalid_rapt');
      expect(conn.body.last_error).toMatchObject({ code: 'invalid_grant', sub_code: 'invalid_rapt' });
    });

    it('a 403 HTML page → rate_limited, the connection is not flagged and its grant still works', async () => {
      const rt = google.issue();
      const id = await importValid(api, 'google-rl', rt, 'g-403');
      google.faults.push({
        status: 403,
        body: '<html><body>We are sorry, but your computer is sending automated queries.</body></html>',
      });
      const before = google.calls;

      const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
      expect(forced.body).toMatchObject({ outcome: 'rate_limited', status: 'active', called_provider: true });
      expect(google.calls - before).toBe(1);
      expect(google.faults).toHaveLength(0);

      const conn = await api.call('GET', `/v1/connections/${id}`);
      expect(conn.body.status).toBe('active');
      expect(conn.body.last_error).toMatchObject({
        class: 'rate_limited',
        code: 'http_403',
        http_status: 403,
      });
      expect(await eventTypes(api, id)).not.toContain('needs_reauth');
      // The stored (still valid) access token is served meanwhile, and the refresh token is alive at Google.
      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(200);
      expect(read.body.access_token).toBe('valid-g-403');
      expect(await emulatorAccepts(google, rt)).toBe(true);
    });
  });

  describe('slack', () => {
    it('rotates on every refresh: the old RT is dead at Slack and the vault uses the new one; token_type bot as-is', async () => {
      const rt0 = slack.issue();
      const id = await importStale(api, 'slack', rt0, 's-rotate');
      const before = slack.calls;

      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(200);
      expect(read.body.access_token).toMatch(/^xoxe\.xoxb-/);
      expect(read.body.token_type).toBe('bot');
      expect(slack.callsFor(rt0)).toBe(1);

      // The presented RT was revoked by the rotation.
      expect(await emulatorAccepts(slack, rt0)).toBe(false);
      const deadCalls = slack.callsFor(rt0); // 2: the vault's call and our probe

      const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
      expect(forced.body).toMatchObject({ outcome: 'success', status: 'active', called_provider: true });
      expect(slack.callsFor(rt0)).toBe(deadCalls); // the vault did not present the dead RT again
      expect(slack.calls - before).toBe(3);

      const again = await api.call('GET', `/v1/connections/${id}/token`);
      expect(again.status).toBe(200);
      expect(again.body.token_type).toBe('bot');
      expect(again.body.access_token).not.toBe(read.body.access_token);
      const events = await api.call('GET', `/v1/connections/${id}/events`);
      const refreshed = (events.body.data as { type: string; detail: { rotated: boolean } }[]).filter(
        (e) => e.type === 'refreshed',
      );
      expect(refreshed.map((e) => e.detail.rotated)).toEqual([true, true]);
      const conn = await api.call('GET', `/v1/connections/${id}`);
      expect(conn.body).toMatchObject({ status: 'active', token_type: 'bot' });
    });

    it('HTTP 200 ok:false invalid_refresh_token → needs_reauth, never called again', async () => {
      const rt = slack.issue();
      slack.revoke(rt);
      const id = await importStale(api, 'slack', rt, 's-invalid');
      const before = slack.calls;

      const read = await api.call('GET', `/v1/connections/${id}/token`);
      expect(read.status).toBe(409);
      expect(read.body).toMatchObject({ error: 'reauth_required', reason: 'invalid_refresh_token' });
      expect(slack.calls - before).toBe(1);
      const conn = await api.call('GET', `/v1/connections/${id}`);
      expect(conn.body).toMatchObject({ status: 'needs_reauth', next_refresh_at: null });
      expect(conn.body.last_error).toMatchObject({
        class: 'reauth_required',
        code: 'invalid_refresh_token',
        http_status: 200,
      });

      for (let i = 0; i < 3; i++) {
        expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(409);
        expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
          outcome: 'reauth_required',
          called_provider: false,
        });
      }
      expect(slack.calls - before).toBe(1);
    });

    it('429 Retry-After: 7 → rate_limited, not flagged, next try in 7 s, and the whole integration slows down', async () => {
      const a = await importValid(api, 'slack-rl', slack.issue(), 's-429-a');
      const rtB = slack.issue();
      const b = await importValid(api, 'slack-rl', rtB, 's-429-b');
      slack.faults.push({
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': '7' },
      });
      const before = slack.calls;

      const t0 = Date.now();
      const forced = await api.call('POST', `/v1/connections/${a}/refresh`);
      const t1 = Date.now();
      expect(forced.body).toMatchObject({
        outcome: 'rate_limited',
        status: 'active',
        called_provider: true,
        retry_after: 7,
      });
      expect(slack.calls - before).toBe(1);

      const conn = await api.call('GET', `/v1/connections/${a}`);
      expect(conn.body.status).toBe('active');
      expect(conn.body.last_error).toMatchObject({
        class: 'rate_limited',
        code: 'ratelimited',
        http_status: 429,
      });
      const next = Date.parse(conn.body.next_refresh_at as string);
      expect(next).toBeGreaterThanOrEqual(t0 + 7000 - 50);
      expect(next).toBeLessThanOrEqual(t1 + 7000 + 50);
      expect(await eventTypes(api, a)).not.toContain('needs_reauth');

      // Another connection of the same integration, right after: the provider is not called.
      const other = await api.call('POST', `/v1/connections/${b}/refresh`);
      expect(other.body).toMatchObject({ outcome: 'rate_limited', called_provider: false });
      expect(other.body.retry_after).toBeGreaterThan(0);
      expect(other.body.retry_after).toBeLessThanOrEqual(7);
      expect(slack.calls - before).toBe(1);
      expect(slack.callsFor(rtB)).toBe(0);
      expect((await api.call('GET', `/v1/connections/${b}`)).body.status).toBe('active');
    });
  });
});
