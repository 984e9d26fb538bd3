import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOutboundFetch, type Resolver } from '@vault/providers';
import type { WebhookJob } from '../jobs/queues';
import { sendWebhook } from './webhook-sender';

const DEV = { production: false, allowedPrivateHosts: [] };
const JOB: WebhookJob = {
  type: 'integration.credentials_rejected',
  occurredAt: new Date().toISOString(),
  data: { integration: 'x', provider: 'oauth2', reason: 'invalid_client' },
};

describe('sendWebhook through the guarded fetch', () => {
  let server: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('delivers to a loopback receiver outside production', async () => {
    const before = hits;
    await expect(
      sendWebhook(createOutboundFetch(DEV), `http://127.0.0.1:${port}/hook`, 'whsec_x', JOB, 'd-1'),
    ).resolves.toBe(200);
    expect(hits - before).toBe(1);
  });

  it('refuses, sending nothing, when the host resolves to a refused address at delivery time', async () => {
    const rebound: Resolver = () => Promise.resolve([{ address: '169.254.169.254', family: 4 }]);
    const before = hits;
    await expect(
      sendWebhook(
        createOutboundFetch(DEV, rebound),
        `http://hooks.localhost:${port}/hook`,
        'whsec_x',
        JOB,
        'd-2',
      ),
    ).rejects.toThrow('webhook URL refused by the outbound rules: forbidden_address');
    await expect(
      sendWebhook(createOutboundFetch(DEV), 'http://[fe80::1]/hook', 'whsec_x', JOB, 'd-3'),
    ).rejects.toThrow('forbidden_address');
    expect(hits).toBe(before);
  });
});
