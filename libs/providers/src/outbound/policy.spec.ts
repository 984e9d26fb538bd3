import {
  checkAddress,
  checkTarget,
  explainRefusal,
  type OutboundPolicy,
  parseAllowedHosts,
  parseTarget,
  type Refusal,
} from './policy';

const DEV: OutboundPolicy = { production: false, allowedPrivateHosts: [] };
const PROD: OutboundPolicy = { production: true, allowedPrivateHosts: [] };

/** The verdict on a URL without DNS: its literal host, scheme and name rules. */
function verdict(url: string, policy: OutboundPolicy): Refusal | null {
  const target = parseTarget(url);
  return typeof target === 'string' ? target : checkTarget(target, policy);
}

describe('parseTarget', () => {
  it('normalises the host: lower case, no brackets, no trailing dot', () => {
    expect(parseTarget('https://IdP.Example.COM./token')).toMatchObject({
      scheme: 'https',
      host: 'idp.example.com',
      literal: false,
    });
    expect(parseTarget('http://[::1]:8080/')).toMatchObject({ scheme: 'http', host: '::1', literal: true });
  });

  it('turns decimal, hex, octal and short IPv4 hosts into the address they mean', () => {
    for (const url of [
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://0xA9.0xFE.0xA9.0xFE/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
      'http://169.254.169.254./',
    ]) {
      expect(parseTarget(url)).toMatchObject({ host: '169.254.169.254', literal: true });
    }
    expect(parseTarget('http://127.1/')).toMatchObject({ host: '127.0.0.1', literal: true });
    expect(parseTarget('http://0x7f000001/')).toMatchObject({ host: '127.0.0.1', literal: true });
  });

  it('refuses what is not an absolute http(s) URL', () => {
    expect(parseTarget('not a url')).toBe('invalid_url');
    expect(parseTarget('/relative/token')).toBe('invalid_url');
    expect(parseTarget('ftp://example.com/token')).toBe('unsupported_scheme');
    expect(parseTarget('file:///etc/passwd')).toBe('unsupported_scheme');
    expect(parseTarget('gopher://127.0.0.1:6379/_FLUSHALL')).toBe('unsupported_scheme');
  });
});

describe('checkTarget: link-local and metadata addresses are always refused', () => {
  const forbidden = [
    'http://169.254.169.254/latest/meta-data/',
    'https://169.254.169.254/',
    'https://2852039166/',
    'https://0xa9fea9fe/',
    'https://169.254.169.254./',
    'https://[fe80::1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://[fd00:ec2::254]/',
    'https://100.100.100.200/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://224.0.0.1/',
    'https://[ff02::1]/',
    'https://255.255.255.255/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://METADATA.google.internal./',
  ];
  it.each(forbidden)('%s', (url) => {
    expect(verdict(url, DEV)).toBe('forbidden_address');
    expect(verdict(url, PROD)).toBe('forbidden_address'); // named as forbidden before any scheme rule
    expect(verdict(url.replace(/^http:/, 'https:'), PROD)).toBe('forbidden_address');
    const allowAll = {
      production: true,
      allowedPrivateHosts: [parseTarget(url) as { host: string }].map((t) => t.host),
    };
    expect(verdict(url.replace(/^http:/, 'https:'), allowAll)).toBe('forbidden_address');
  });
});

describe('checkTarget in development and test', () => {
  it('allows plain http to loopback only: literal loopback addresses and localhost names', () => {
    for (const url of [
      'http://127.0.0.1:4000/token',
      'http://127.1:4000/token',
      'http://[::1]:4000/token',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:4000/token',
      'http://LOCALHOST./token',
      'http://idp.localhost/token',
    ]) {
      expect(verdict(url, DEV)).toBeNull();
    }
    for (const url of [
      'http://10.0.0.1/',
      'http://192.168.1.10/',
      'http://example.com/',
      'http://8.8.8.8/',
    ]) {
      expect(verdict(url, DEV)).toBe('http_not_loopback');
    }
  });

  it('allows https to public, private and loopback hosts', () => {
    for (const url of [
      'https://oauth2.googleapis.com/token',
      'https://10.0.0.1/',
      'https://127.0.0.1/',
      'https://[fc00::1]/',
    ]) {
      expect(verdict(url, DEV)).toBeNull();
    }
  });
});

describe('checkTarget in production', () => {
  it('refuses plain http, even to loopback or an allowed host', () => {
    expect(verdict('http://127.0.0.1:4000/token', PROD)).toBe('https_required');
    expect(verdict('http://localhost/token', PROD)).toBe('https_required');
    expect(verdict('http://idp.example.com/token', PROD)).toBe('https_required');
    expect(verdict('http://idp.internal/', { production: true, allowedPrivateHosts: ['idp.internal'] })).toBe(
      'https_required',
    );
  });

  it('refuses loopback and private addresses', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://2130706433/',
      'https://[::1]/',
      'https://localhost/',
      'https://a.localhost/',
      'https://10.1.2.3/',
      'https://172.20.0.1/',
      'https://192.168.0.1/',
      'https://100.64.0.1/',
      'https://[fc00::1]/',
      'https://[fd12::1]/',
      'https://[::ffff:10.0.0.1]/',
    ]) {
      expect(verdict(url, PROD)).toBe('private_address');
    }
  });

  it('allows public https hosts; names are left to their addresses', () => {
    expect(verdict('https://8.8.8.8/', PROD)).toBeNull();
    expect(verdict('https://[2606:4700:4700::1111]/', PROD)).toBeNull();
    expect(verdict('https://login.microsoftonline.com/common/oauth2/v2.0/token', PROD)).toBeNull();
  });

  it('allows a loopback or private host listed in ALLOWED_PRIVATE_HOSTS, and only that host', () => {
    const policy: OutboundPolicy = {
      production: true,
      allowedPrivateHosts: parseAllowedHosts('localhost, 10.0.0.5,IDP.Internal.').hosts,
    };
    expect(verdict('https://localhost:8443/token', policy)).toBeNull();
    expect(verdict('https://LocalHost./token', policy)).toBeNull();
    expect(verdict('https://10.0.0.5/token', policy)).toBeNull();
    expect(verdict('https://167772165/token', policy)).toBeNull(); // 10.0.0.5 in decimal
    expect(verdict('https://10.0.0.6/token', policy)).toBe('private_address');
    expect(verdict('https://127.0.0.1/token', policy)).toBe('private_address');
    expect(checkAddress({ scheme: 'https', host: 'idp.internal.' }, '10.9.9.9', policy)).toBeNull();
    expect(checkAddress({ scheme: 'https', host: 'other.internal' }, '10.9.9.9', policy)).toBe(
      'private_address',
    );
  });
});

describe('checkAddress: each address a host name resolves to', () => {
  it('refuses a name resolving to link-local or metadata, whatever the policy', () => {
    for (const policy of [DEV, PROD, { production: true, allowedPrivateHosts: ['rebind.example'] }]) {
      for (const ip of ['169.254.169.254', 'fe80::1', '::ffff:169.254.169.254', '0.0.0.0']) {
        expect(checkAddress({ scheme: 'https', host: 'rebind.example' }, ip, policy)).toBe(
          'forbidden_address',
        );
      }
    }
  });

  it('in production refuses a public name resolving to a private or loopback address', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '::1', 'fd00::1']) {
      expect(checkAddress({ scheme: 'https', host: 'idp.example.com' }, ip, PROD)).toBe('private_address');
      expect(checkAddress({ scheme: 'https', host: 'idp.example.com' }, ip, DEV)).toBeNull();
    }
    expect(checkAddress({ scheme: 'https', host: 'idp.example.com' }, '93.184.216.34', PROD)).toBeNull();
  });

  it('lets plain http reach only loopback addresses outside production', () => {
    expect(checkAddress({ scheme: 'http', host: 'localhost' }, '127.0.0.1', DEV)).toBeNull();
    expect(checkAddress({ scheme: 'http', host: 'localhost' }, '::1', DEV)).toBeNull();
    expect(checkAddress({ scheme: 'http', host: 'localhost' }, '10.0.0.1', DEV)).toBe('http_not_loopback');
    expect(checkAddress({ scheme: 'http', host: 'localhost' }, '127.0.0.1', PROD)).toBe('https_required');
  });

  it('refuses what is not an address at all', () => {
    expect(checkAddress({ scheme: 'https', host: 'x.example' }, 'not-an-ip', DEV)).toBe('forbidden_address');
  });
});

describe('parseAllowedHosts', () => {
  it('normalises names and IP literals as URLs do', () => {
    expect(parseAllowedHosts(' IdP.Internal. , 127.1,[::1], 0:0::1 ,,').hosts).toEqual([
      'idp.internal',
      '127.0.0.1',
      '::1',
      '::1',
    ]);
    expect(parseAllowedHosts(undefined)).toEqual({ hosts: [], invalid: [] });
  });

  it('reports entries with a scheme, port, path or credentials as invalid', () => {
    expect(parseAllowedHosts('https://idp.internal,idp.internal:8443,a/b,u@h,ok.internal')).toEqual({
      hosts: ['ok.internal'],
      invalid: ['https://idp.internal', 'idp.internal:8443', 'a/b', 'u@h'],
    });
  });
});

it('explains every refusal without echoing the URL', () => {
  for (const r of [
    'invalid_url',
    'unsupported_scheme',
    'https_required',
    'forbidden_address',
    'private_address',
    'http_not_loopback',
  ] as const) {
    expect(explainRefusal(r).length).toBeGreaterThan(10);
  }
});
