import { createHmac } from 'node:crypto';
import { type OutboundFetch, refusalOf } from '@vault/providers';
import type { WebhookJob } from '../jobs/queues';

/**
 * Signs and posts one webhook: `X-Vault-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * with WEBHOOK_SECRET, so receivers can check origin and freshness. Sent through the guarded outbound fetch:
 * the outbound URL rules apply to the address connected to, and redirects are never followed. Throws on a
 * refused URL, a non-2xx answer (a 3xx included) or a timeout (the queue retries with backoff).
 */
export async function sendWebhook(
  fetchImpl: OutboundFetch,
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
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-vault-signature': `t=${t},v1=${signature}`,
        'x-vault-delivery': deliveryId,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) throw new Error(`webhook URL refused by the outbound rules: ${refusal}`, { cause: err });
    throw err;
  }
  // The receiver's answer is not read: only its status counts.
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 300 && res.status < 400) {
    throw new Error(`webhook receiver answered HTTP ${res.status}: redirects are not followed`);
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`webhook receiver answered HTTP ${res.status}`);
  return res.status;
}
