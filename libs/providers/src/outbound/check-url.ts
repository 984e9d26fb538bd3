/** The outbound rules applied when a URL is set: the URL, then every address its host name resolves to now. */
import { systemResolver, type Resolver } from './outbound-fetch';
import { checkAddress, checkTarget, type OutboundPolicy, parseTarget, type Refusal } from './policy';

/** How long a set-time lookup may take before the URL is judged on its literal form alone. */
const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Null when the URL may be stored. A host name that does not resolve (yet, or not from here) is accepted: the
 * rules are applied again to the addresses actually connected to, on every call.
 */
export async function checkOutboundUrl(
  raw: string,
  policy: OutboundPolicy,
  resolver: Resolver = systemResolver,
): Promise<Refusal | null> {
  const target = parseTarget(raw);
  if (typeof target === 'string') return target;
  const refusal = checkTarget(target, policy);
  if (refusal || target.literal) return refusal;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LOOKUP_TIMEOUT_MS);
  });
  try {
    const addresses = await Promise.race([resolver(target.host).catch(() => null), timeout]);
    for (const { address } of addresses ?? []) {
      const found = checkAddress(target, address, policy);
      if (found) return found;
    }
    return null;
  } finally {
    clearTimeout(timer);
  }
}
