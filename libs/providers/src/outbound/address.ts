/**
 * What kind of address an IP literal is, for the outbound URL rules: pure, no DNS.
 *
 * - `forbidden`: never a legitimate target (link-local and cloud metadata, "this network", multicast,
 *   reserved, broadcast, discard).
 * - `loopback`: 127.0.0.0/8 and ::1.
 * - `private`: any other address that is not globally routable (RFC 1918, CGNAT, ULA, documentation…).
 * - `public`: everything else.
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped, -compatible, -translated, NAT64, 6to4, Teredo) are
 * judged by the IPv4 address they lead to, so `::ffff:169.254.169.254` is as forbidden as the original.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass = 'forbidden' | 'loopback' | 'private' | 'public';

type Range4 = readonly [base: string, bits: number, cls: Exclude<AddressClass, 'public'>];

/** Checked in order: the first matching range wins (metadata hosts before the private range holding them). */
const V4_RANGES: readonly Range4[] = [
  ['0.0.0.0', 8, 'forbidden'], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['169.254.0.0', 16, 'forbidden'], // link-local: AWS/GCP/Azure/OCI metadata at 169.254.169.254
  ['100.100.100.200', 32, 'forbidden'], // Alibaba Cloud metadata
  ['192.0.0.192', 32, 'forbidden'], // Oracle Cloud Classic metadata
  ['224.0.0.0', 4, 'forbidden'], // multicast
  ['240.0.0.0', 4, 'forbidden'], // reserved, and 255.255.255.255 broadcast
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['192.0.0.0', 24, 'private'], // IETF protocol assignments
  ['192.0.2.0', 24, 'private'], // documentation
  ['192.88.99.0', 24, 'private'], // 6to4 relay anycast (deprecated)
  ['198.18.0.0', 15, 'private'], // benchmarking
  ['198.51.100.0', 24, 'private'], // documentation
  ['203.0.113.0', 24, 'private'], // documentation
];

function v4Number(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inRange4(n: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(n / size) === Math.floor(v4Number(base) / size);
}

function classify4(n: number): AddressClass {
  for (const [base, bits, cls] of V4_RANGES) if (inRange4(n, base, bits)) return cls;
  return 'public';
}

/** The 8 16-bit groups of a valid IPv6 literal (zone index dropped, trailing dotted IPv4 expanded). */
function groups6(ip: string): number[] {
  let text = ip.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const n = v4Number(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/** The IPv4 address in the low 32 bits of the groups. */
function low32(g: number[]): number {
  return (g[6] ?? 0) * 65536 + (g[7] ?? 0);
}

/** A tunnel or translator towards an IPv4 address: public when that address is, otherwise never local. */
function viaTunnel(v4: number): AddressClass {
  const cls = classify4(v4);
  return cls === 'public' ? 'public' : cls === 'forbidden' ? 'forbidden' : 'private';
}

function classify6(g: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upper80zero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upper80zero && g5 === 0) {
    if (g6 === 0 && g7 === 0) return 'forbidden'; // :: unspecified
    if (g6 === 0 && g7 === 1) return 'loopback'; // ::1
    return classify4(low32(g)); // IPv4-compatible ::a.b.c.d (deprecated)
  }
  if (upper80zero && g5 === 0xffff) return classify4(low32(g)); // IPv4-mapped ::ffff:a.b.c.d
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) {
    return classify4(low32(g)); // IPv4-translated ::ffff:0:a.b.c.d
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return viaTunnel(low32(g)); // NAT64 well-known prefix 64:ff9b::/96
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) {
    return viaTunnel(low32(g)) === 'forbidden' ? 'forbidden' : 'private'; // local-use NAT64 64:ff9b:1::/48
  }
  if (g0 === 0x2002) return viaTunnel(g1 * 65536 + g2); // 6to4 2002:AABB:CCDD::/48
  if (g0 === 0x2001 && g1 === 0) return viaTunnel(~low32(g) >>> 0); // Teredo: client IPv4 inverted
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0) {
    if (g7 === 0x254) return 'forbidden'; // AWS metadata over IPv6, fd00:ec2::254
  }
  if ((g0 & 0xffc0) === 0xfe80) return 'forbidden'; // link-local fe80::/10
  if ((g0 & 0xff00) === 0xff00) return 'forbidden'; // multicast ff00::/8
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'forbidden'; // discard-only 100::/64
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // site-local fec0::/10 (deprecated)
  if (g0 === 0x2001 && g1 === 0x0db8) return 'private'; // documentation 2001:db8::/32
  if (g0 === 0x3fff && (g1 & 0xf000) === 0) return 'private'; // documentation 3fff::/20
  if (g0 === 0x2001 && (g1 & 0xfff0) === 0x0010) return 'private'; // ORCHID 2001:10::/28
  if (g0 === 0x2001 && (g1 & 0xfff0) === 0x0020) return 'private'; // ORCHIDv2 2001:20::/28
  if ((g0 & 0xe000) !== 0x2000) return 'private'; // outside global unicast 2000::/3
  return 'public';
}

/** The class of an IP literal (IPv6 with or without brackets); undefined when it is not an IP literal. */
export function classifyAddress(ip: string): AddressClass | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(bare)) return classify4(v4Number(bare));
  if (isIPv6(bare)) return classify6(groups6(bare));
  return undefined;
}
