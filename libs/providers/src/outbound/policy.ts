/**
 * The outbound URL rules (token, revoke, authorize and webhook URLs): pure functions of a URL, an address
 * and the policy. DNS is someone else's job: `checkTarget` judges the URL and a literal host, `checkAddress`
 * each address a host name resolves to (when the URL is set, and again when the connection is made).
 *
 * - link-local, cloud-metadata and other never-legitimate addresses: always refused;
 * - production: `https` only, and no loopback or private address unless the host is in `allowedPrivateHosts`;
 * - development and test: `https` anywhere else, plain `http` only to loopback (local peers, emulators):
 *   a loopback IP literal, or `localhost` / `*.localhost` resolving to loopback.
 */
import { isIP } from 'node:net';
import { type AddressClass, classifyAddress } from './address';

export interface OutboundPolicy {
  /** NODE_ENV=production. */
  production: boolean;
  /** Normalised host names (or IP literals) allowed to resolve to loopback or private addresses. */
  allowedPrivateHosts: readonly string[];
}

export const DEVELOPMENT_POLICY: OutboundPolicy = { production: false, allowedPrivateHosts: [] };

export type Refusal =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'https_required'
  | 'forbidden_address'
  | 'private_address'
  | 'http_not_loopback';

const EXPLAIN: Record<Refusal, string> = {
  invalid_url: 'is not a valid absolute URL',
  unsupported_scheme: 'must be an http or https URL',
  https_required: 'must use https when NODE_ENV=production',
  forbidden_address: 'points at a link-local, cloud-metadata or otherwise forbidden address',
  private_address:
    'points at a loopback or private address; list its host in ALLOWED_PRIVATE_HOSTS to allow it',
  http_not_loopback: 'may use plain http only towards a loopback address',
};

/** A sentence for an error message (never echoes the URL). */
export function explainRefusal(refusal: Refusal): string {
  return EXPLAIN[refusal];
}

export interface Target {
  url: URL;
  scheme: 'http' | 'https';
  /** Lower case, no brackets, no trailing dot. */
  host: string;
  /** True when the host is an IP literal (the WHATWG parser already turned 0x7f.1 or 2130706433 into one). */
  literal: boolean;
}

/** Lower case, IPv6 brackets and trailing dots removed: `LocalHost.` → `localhost`, `[::1]` → `::1`. */
export function normaliseHost(host: string): string {
  const lower = host.trim().toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return bare.replace(/\.+$/, '');
}

/** Names the resolver would send to a metadata service whatever DNS says. */
const FORBIDDEN_NAMES = new Set(['metadata.google.internal', 'metadata.goog']);

/** `localhost` and `*.localhost` always mean this machine (RFC 6761). */
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

export function parseTarget(raw: string): Target | Refusal {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'invalid_url';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'unsupported_scheme';
  const host = normaliseHost(url.hostname);
  if (host === '') return 'invalid_url';
  return { url, scheme: url.protocol === 'https:' ? 'https' : 'http', host, literal: isIP(host) !== 0 };
}

function allowed(policy: OutboundPolicy, host: string): boolean {
  return policy.allowedPrivateHosts.includes(host);
}

function judge(scheme: Target['scheme'], host: string, cls: AddressClass, policy: OutboundPolicy) {
  if (cls === 'forbidden') return 'forbidden_address';
  if (scheme === 'http') {
    if (policy.production) return 'https_required';
    return cls === 'loopback' ? null : 'http_not_loopback';
  }
  if (policy.production && cls !== 'public' && !allowed(policy, host)) return 'private_address';
  return null;
}

/**
 * The rules that need no DNS: scheme, literal IP hosts, `localhost` names, metadata names. A host name that
 * passes here still has each of its addresses checked with `checkAddress`.
 */
export function checkTarget(target: Target, policy: OutboundPolicy): Refusal | null {
  if (target.literal) {
    return judge(target.scheme, target.host, classifyAddress(target.host) ?? 'forbidden', policy);
  }
  if (FORBIDDEN_NAMES.has(target.host)) return 'forbidden_address';
  if (isLocalhostName(target.host)) return judge(target.scheme, target.host, 'loopback', policy);
  if (target.scheme === 'https') return null;
  // Plain http only to a host that is loopback by its very name (and, once resolved, by its addresses).
  return policy.production ? 'https_required' : 'http_not_loopback';
}

/** One address a host name resolved to, judged for that host and scheme. */
export function checkAddress(
  target: Pick<Target, 'scheme' | 'host'>,
  address: string,
  policy: OutboundPolicy,
): Refusal | null {
  return judge(target.scheme, normaliseHost(target.host), classifyAddress(address) ?? 'forbidden', policy);
}

/**
 * Parses ALLOWED_PRIVATE_HOSTS: comma-separated host names or IP literals, normalised as URLs normalise them
 * (so `127.1` is `127.0.0.1` and `LOCALHOST.` is `localhost`). Entries with a scheme, port or path are invalid.
 */
export function parseAllowedHosts(value: string | undefined): { hosts: string[]; invalid: string[] } {
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of (value ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const bare = normaliseHost(trimmed);
    const host = /^[^/?#@\\[\]\s]+$/.test(bare) || isIP(bare) === 6 ? hostOf(bare) : undefined;
    if (host === undefined) invalid.push(trimmed);
    else hosts.push(host);
  }
  return { hosts, invalid };
}

function hostOf(bare: string): string | undefined {
  try {
    const url = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`);
    return url.port === '' && url.host === url.hostname ? normaliseHost(url.hostname) : undefined;
  } catch {
    return undefined;
  }
}
