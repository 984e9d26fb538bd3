import { type AddressClass, classifyAddress } from './address';

const cases: Record<AddressClass, string[]> = {
  forbidden: [
    '169.254.169.254', // AWS, GCP, Azure, OCI metadata
    '169.254.0.1',
    '169.254.255.255',
    '100.100.100.200', // Alibaba metadata
    '192.0.0.192', // Oracle Cloud Classic metadata
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1', // multicast
    '239.255.255.250',
    '240.0.0.1', // reserved
    '255.255.255.255', // broadcast
    '::', // unspecified
    'fe80::1', // link-local
    'fe80::1%eth0',
    'febf:ffff::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    'ff02::1', // multicast
    '100::1', // discard-only
    '::ffff:169.254.169.254', // IPv4-mapped
    '::ffff:a9fe:a9fe', // the same, hex
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '::169.254.169.254', // IPv4-compatible
    '::ffff:0:169.254.169.254', // IPv4-translated
    '64:ff9b::169.254.169.254', // NAT64
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
    '::ffff:0.0.0.0',
    '::ffff:224.0.0.1',
  ],
  loopback: [
    '127.0.0.1',
    '127.255.255.254',
    '127.1.2.3',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ],
  private: [
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1', // CGNAT
    '100.127.255.255',
    '192.0.0.8',
    '192.0.2.1', // documentation
    '198.18.0.1', // benchmarking
    '198.51.100.7',
    '203.0.113.9',
    'fc00::1', // unique local
    'fd12:3456:789a::1',
    'fd00:ec2::253', // next to AWS metadata, still ULA
    'fec0::1', // site-local
    '2001:db8::1', // documentation
    '::ffff:10.0.0.1',
    '::ffff:192.168.0.1',
    '64:ff9b::10.0.0.1', // NAT64 towards a private address
    '64:ff9b:1::a00:1', // local-use NAT64
    '2002:0a00:0001::1', // 6to4 of 10.0.0.1
    '2002:7f00:1::', // 6to4 of loopback: not this host, still not public
    '4000::1', // outside 2000::/3
  ],
  public: [
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above
    '100.63.255.255', // just below CGNAT
    '100.128.0.0',
    '169.253.255.255', // just below link-local
    '169.255.0.0',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ],
};

describe('classifyAddress', () => {
  for (const [cls, addresses] of Object.entries(cases)) {
    it.each(addresses)(`%s is ${cls}`, (ip) => {
      expect(classifyAddress(ip)).toBe(cls);
    });
  }

  it('takes IPv6 literals in URL brackets', () => {
    expect(classifyAddress('[fe80::1]')).toBe('forbidden');
    expect(classifyAddress('[::1]')).toBe('loopback');
  });

  it('answers undefined for anything that is not an IP literal', () => {
    for (const s of ['localhost', 'example.com', '169.254.169.254.', '2852039166', '0xa9fea9fe', '', '::g']) {
      expect(classifyAddress(s)).toBeUndefined();
    }
  });

  it('judges a Teredo address by the client IPv4 it carries (inverted)', () => {
    // 2001:0::/32, low 32 bits = NOT 169.254.169.254 = 5601:5601
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:5601:5601')).toBe('forbidden');
    // NOT 8.8.8.8 = f7f7:f7f7
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7')).toBe('public');
  });
});
