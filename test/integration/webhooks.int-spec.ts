import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WEBHOOK_QUEUE } from '@vault/core';
import type { Queue } from 'bullmq';
import { startTestApi, type TestApi } from '../utils/api';
import { readBody, startGoogleEmulator, type Emulator } from '../utils/provider-emulators';
import { createIntegration, peerIntegration, startInProcessWorker, waitFor } from '../utils/refresh-fixtures';

/**
 * Webhooks end to end: the API flags a revoked grant on a read and enqueues `connection.needs_reauth`; the
 * worker (in-process, same PostgreSQL database and Redis prefix) delivers it, signed, to a real HTTP receiver,
 * and retries a failed delivery with the queue's backoff.
 */

const SECRET = 'whsec_test_0123456789abcdef';

interface Delivery {
  at: number;
  headers: IncomingHttpHeaders;
  raw: string;
  answered: number;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Statuses to answer (a redirect with its Location), taken from the front; 200 once empty. */
  answers: (number | { status: number; location: string })[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const answers: Receiver['answers'] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const answer = answers.shift() ?? 200;
      const answered = typeof answer === 'number' ? answer : answer.status;
      deliveries.push({ at: Date.now(), headers: req.headers, raw, answered });
      const location = typeof answer === 'number' ? {} : { location: answer.location };
      res.writeHead(answered, { 'content-type': 'text/plain', ...location });
      res.end(answered === 200 ? 'ok' : 'receiver failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vault`,
    deliveries,
    answers,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Checks `x-vault-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` as a receiver would. */
function verifySignature(d: Delivery, secret: string): number {
  const header = String(d.headers['x-vault-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) throw new Error(`malformed signature header: ${header}`);
  const t = Number(m[1]);
  const expected = createHmac('sha256', secret).update(`${m[1]}.${d.raw}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(m[2] ?? '', 'hex'))) throw new Error('signature mismatch');
  return t;
}

function counter(metrics: string, outcome: string): number {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('vault_webhook_deliveries_total{') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('webhooks: connection.needs_reauth delivered by the worker', () => {
  let receiver: Receiver;
  let elsewhere: Receiver;
  let google: Emulator;
  let api: TestApi;
  let worker: NestFastifyApplication;
  let queue: Queue;

  const workerMetrics = async (): Promise<string> =>
    (await worker.inject({ method: 'GET', url: '/metrics' })).body;

  /** Imports a grant with a valid access token, revokes it at Google, and flags it with a read that needs more. */
  async function flagOnRead(externalId: string): Promise<{ id: string; rt: string }> {
    const rt = google.issue();
    const res = await api.call('POST', '/v1/connections', {
      integration: 'google',
      tenant_id: 'tenant-hooks',
      external_id: externalId,
      refresh_token: rt,
      access_token: `valid-${externalId}`,
      expires_in: 3600,
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    google.revoke(rt);
    const read = await api.call('GET', `/v1/connections/${id}/token?min_ttl=7200`);
    expect(read.status).toBe(409);
    expect(read.body).toMatchObject({ error: 'reauth_required', reason: 'invalid_grant' });
    return { id, rt };
  }

  beforeAll(async () => {
    [receiver, elsewhere, google] = await Promise.all([
      startReceiver(),
      startReceiver(),
      startGoogleEmulator(),
    ]);
    const hooks = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET };
    api = await startTestApi(hooks);
    worker = await startInProcessWorker(api, hooks);
    await worker.getHttpAdapter().getInstance().ready();
    queue = worker.get<Queue>(getQueueToken(WEBHOOK_QUEUE));
    await createIntegration(api, peerIntegration(google, 'google', 'google'));
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await Promise.all([receiver?.close(), elsewhere?.close(), google?.close()]);
  });

  it('a revoked grant flagged on read → exactly one signed webhook, with IDs and reason and no token', async () => {
    const deliveredBefore = counter(await workerMetrics(), 'delivered');
    const { id, rt } = await flagOnRead('hook-1');

    const [d] = await waitFor('the webhook', () =>
      Promise.resolve(receiver.deliveries.length > 0 && receiver.deliveries),
    );
    // More reads and a forced refresh of the flagged connection raise nothing new.
    expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(409);
    expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
      outcome: 'reauth_required',
      called_provider: false,
    });
    await waitFor('the queue to settle', async () => {
      const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
      return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) === 0 && c.completed === 1 && c;
    });
    // A second webhook would be a job of the queue: none arrives within a short settle time.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.deliveries).toHaveLength(1);
    expect(await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed')).toMatchObject({
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 1,
      failed: 0,
    });

    const delivery = d as Delivery;
    expect(delivery.headers['content-type']).toMatch(/^application\/json/);
    const t = verifySignature(delivery, SECRET);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
    expect(() => verifySignature(delivery, `${SECRET}-wrong`)).toThrow('signature mismatch');
    expect(() =>
      verifySignature({ ...delivery, raw: delivery.raw.replace('hook', 'h00k') }, SECRET),
    ).toThrow();

    const body = JSON.parse(delivery.raw) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'connection.needs_reauth',
      data: {
        connection_id: id,
        tenant_id: 'tenant-hooks',
        integration: 'google',
        provider: 'google',
        reason: 'invalid_grant',
      },
    });
    expect(body.id).toBe(delivery.headers['x-vault-delivery']);
    expect(Number.isNaN(Date.parse(body.occurred_at as string))).toBe(false);
    expect(delivery.raw).not.toContain(rt);
    expect(delivery.raw).not.toContain('valid-hook-1');
    expect(delivery.raw).not.toMatch(/access_token|refresh_token|client_secret/);

    expect(counter(await workerMetrics(), 'delivered') - deliveredBefore).toBe(1);
  });

  it('a receiver answering 500 gets the same delivery again after the backoff (5 s)', async () => {
    const metricsBefore = await workerMetrics();
    const seen = receiver.deliveries.length;
    receiver.answers.push(500);
    const { id } = await flagOnRead('hook-2');

    await waitFor(
      'the retried webhook',
      () => Promise.resolve(receiver.deliveries.length >= seen + 2 && receiver.deliveries),
      30_000,
    );
    const [failed, retried] = receiver.deliveries.slice(seen) as [Delivery, Delivery];
    expect(failed.answered).toBe(500);
    expect(retried.answered).toBe(200);
    expect(retried.at - failed.at).toBeGreaterThanOrEqual(4_500);
    expect(retried.headers['x-vault-delivery']).toBe(failed.headers['x-vault-delivery']);
    expect(JSON.parse(retried.raw)).toEqual(JSON.parse(failed.raw));
    expect(JSON.parse(retried.raw)).toMatchObject({
      type: 'connection.needs_reauth',
      data: { connection_id: id, reason: 'invalid_grant' },
    });
    verifySignature(failed, SECRET);
    verifySignature(retried, SECRET);

    // The worker counts a delivery once the receiver's answer is back, a moment after the receiver saw it.
    const metrics = await waitFor('the delivery to be counted', async () => {
      const m = await workerMetrics();
      return counter(m, 'delivered') - counter(metricsBefore, 'delivered') >= 1 && m;
    });
    expect(counter(metrics, 'failed') - counter(metricsBefore, 'failed')).toBe(1);
    expect(counter(metrics, 'delivered') - counter(metricsBefore, 'delivered')).toBe(1);
    expect(metrics).toMatch(/^vault_webhook_deliveries_total\{outcome="delivered"[^}]*\} \d+$/m);
  });
  it('a receiver answering a redirect gets no delivery followed: a failed delivery, retried at the same URL', async () => {
    const metricsBefore = await workerMetrics();
    const seen = receiver.deliveries.length;
    receiver.answers.push({ status: 307, location: elsewhere.url });
    await flagOnRead('hook-3');

    await waitFor(
      'the retried webhook',
      () => Promise.resolve(receiver.deliveries.length >= seen + 2 && receiver.deliveries),
      30_000,
    );
    const [redirected, retried] = receiver.deliveries.slice(seen) as [Delivery, Delivery];
    expect(redirected.answered).toBe(307);
    expect(retried.answered).toBe(200);
    expect(retried.headers['x-vault-delivery']).toBe(redirected.headers['x-vault-delivery']);
    expect(elsewhere.deliveries).toHaveLength(0);
    const metrics = await waitFor('the delivery to be counted', async () => {
      const m = await workerMetrics();
      return counter(m, 'delivered') - counter(metricsBefore, 'delivered') >= 1 && m;
    });
    expect(counter(metrics, 'failed') - counter(metricsBefore, 'failed')).toBe(1);
  });
});
