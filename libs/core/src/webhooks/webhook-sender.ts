import { createHmac } from 'node:crypto';
import type { WebhookJob } from '../jobs/queues';

/**
 * Signs and posts one webhook: `X-Vault-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * with WEBHOOK_SECRET, so receivers can check origin and freshness. Throws on a non-2xx answer or a timeout
 * (the queue retries with backoff).
 */
export async function sendWebhook(
  url: string,
  secret: string,
  job: WebhookJob,
  deliveryId: string,
  timeoutMs = 10_000,
): Promise<number> {
  const body = JSON.stringify({
    id: deliveryId,
    type: job.type,
    occurred_at: job.occurredAt,
    data: job.data,
  });
  const t = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-vault-signature': `t=${t},v1=${signature}`,
      'x-vault-delivery': deliveryId,
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`webhook receiver answered HTTP ${res.status}`);
  return res.status;
}
