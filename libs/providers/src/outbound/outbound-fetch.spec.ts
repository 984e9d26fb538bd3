import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkOutboundUrl } from './check-url';
import { createOutboundFetch, type Resolver, refusalOf } from './outbound-fetch';
import type { OutboundPolicy } from './policy';

const DEV: OutboundPolicy = { production: false, allowedPrivateHosts: [] };

/** A DNS whose answers the test sets per host name, counting lookups. */
function playDns(answers: Record<string, string[]>) {
  const lookups: string[] = [];
  const resolver: Resolver = (hostname) => {
    lookups.push(hostname);
    const addresses = answers[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return { answers, lookups, resolver };
}

describe('createOutboundFetch against a real local server', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` });
        return res.end();
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => hits.splice(0));

  async function refusal(p: Promise<unknown>) {
    try {
      await p;
    } catch (err) {
      return refusalOf(err);
    }
    return 'sent';
  }

  it('reaches a loopback peer over http outside production', async () => {
    const res = await createOutboundFetch(DEV)(`http://127.0.0.1:${port}/hello`, {});
    expect(await res.text()).toBe('ok');
    expect(hits).toEqual(['/hello']);
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    const res = await createOutboundFetch(DEV)(`http://127.0.0.1:${port}/redirect`, { redirect: 'follow' });
    expect(res.status).toBe(302);
    expect(hits).toEqual(['/redirect']);
  });

  it('refuses literal forbidden hosts before any connection', async () => {
    const f = createOutboundFetch(DEV);
    expect(await refusal(f('http://169.254.169.254/latest/meta-data/', {}))).toBe('forbidden_address');
    expect(await refusal(f('https://[fe80::1]/', {}))).toBe('forbidden_address');
    expect(await refusal(f('http://0x7f000001.example/', {}))).toBe('http_not_loopback');
  });

  it('checks the addresses at connect time: a name rebound to a refused address sends nothing', async () => {
    const dns = playDns({ 'idp.localhost': ['127.0.0.1'] });
    const url = `http://idp.localhost:${port}/token`;
    // When set: the name resolves to loopback, fine for http outside production.
    expect(await checkOutboundUrl(url, DEV, dns.resolver)).toBeNull();
    // Then DNS changes its answer before the call (fresh fetch: no pooled connection to reuse).
    dns.answers['idp.localhost'] = ['169.254.169.254'];
    expect(await refusal(createOutboundFetch(DEV, dns.resolver)(url, {}))).toBe('forbidden_address');
    dns.answers['idp.localhost'] = ['127.0.0.1', '10.0.0.1'];
    expect(await refusal(createOutboundFetch(DEV, dns.resolver)(url, {}))).toBe('http_not_loopback');
    expect(hits).toEqual([]);
    expect(dns.lookups.filter((h) => h === 'idp.localhost').length).toBe(3);
    // And back to loopback: the call goes through the same guard.
    dns.answers['idp.localhost'] = ['127.0.0.1'];
    expect(await (await createOutboundFetch(DEV, dns.resolver)(url, {})).text()).toBe('ok');
  });

  it('in production refuses a public name resolving to a private address unless the host is allowed', async () => {
    const dns = playDns({ 'idp.example.com': ['10.0.0.7'] });
    const prod: OutboundPolicy = { production: true, allowedPrivateHosts: [] };
    expect(await checkOutboundUrl('https://idp.example.com/token', prod, dns.resolver)).toBe(
      'private_address',
    );
    expect(await refusal(createOutboundFetch(prod, dns.resolver)('https://idp.example.com/token', {}))).toBe(
      'private_address',
    );
    const allowed: OutboundPolicy = { production: true, allowedPrivateHosts: ['idp.example.com'] };
    expect(await checkOutboundUrl('https://idp.example.com/token', allowed, dns.resolver)).toBeNull();
  });
});

describe('checkOutboundUrl when a URL is set', () => {
  it('judges literal hosts without DNS', async () => {
    const dns = playDns({});
    expect(await checkOutboundUrl('http://169.254.169.254/latest', DEV, dns.resolver)).toBe(
      'forbidden_address',
    );
    expect(await checkOutboundUrl('http://[fe80::1]/', DEV, dns.resolver)).toBe('forbidden_address');
    expect(await checkOutboundUrl('https://8.8.8.8/', DEV, dns.resolver)).toBeNull();
    expect(dns.lookups).toEqual([]);
  });

  it('refuses a host name when any of its addresses is refused', async () => {
    const dns = playDns({ 'mixed.example': ['93.184.216.34', '169.254.169.254'] });
    expect(await checkOutboundUrl('https://mixed.example/token', DEV, dns.resolver)).toBe(
      'forbidden_address',
    );
  });

  it('accepts a name that does not resolve from here: the call-time check still applies', async () => {
    const dns = playDns({});
    expect(await checkOutboundUrl('https://tenant.auth0.example/oauth/token', DEV, dns.resolver)).toBeNull();
    expect(dns.lookups).toEqual(['tenant.auth0.example']);
  });
});
