/** Sends one request and maps transport failures (timeout, refused, reset) to a ProviderFailure. */
import type { ProviderFailure, RawAnswer } from '../types';

/** Thrown through oauth4webapi's customFetch so a transport failure can be told apart from a config error. */
export class TransportFailure extends Error {
  constructor(readonly failure: ProviderFailure) {
    super(`transport failure: ${failure.code}`);
  }
}

/** The connection was never made: the provider cannot have seen the request. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

/** The errno along the cause chain. Duck-typed: fetch errors may come from another realm (jest's vm). */
function errnoOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return undefined;
}

export interface Signals {
  timeout: AbortSignal;
  caller?: AbortSignal;
  combined: AbortSignal;
}

export function signalsFor(timeoutMs: number, caller?: AbortSignal): Signals {
  // AbortSignal.timeout throws on negative values: a bad timeout becomes an immediate timeout, never a throw.
  const timeout = AbortSignal.timeout(Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.ceil(timeoutMs) : 0);
  return { timeout, caller, combined: caller ? AbortSignal.any([timeout, caller]) : timeout };
}

export function transportFailure(err: unknown, signals: Signals): ProviderFailure {
  if (signals.timeout.aborted)
    return { class: 'transient', code: 'timeout', httpStatus: null, ambiguous: true };
  if (signals.caller?.aborted)
    return { class: 'transient', code: 'aborted', httpStatus: null, ambiguous: true };
  const errno = errnoOf(err);
  if (errno !== undefined && NOT_SENT.has(errno)) {
    return { class: 'transient', code: 'connect_failed', subCode: errno, httpStatus: null, ambiguous: false };
  }
  // Reset, "other side closed", or anything unknown: the request may have been processed.
  return { class: 'transient', code: 'connection_reset', subCode: errno, httpStatus: null, ambiguous: true };
}

/** fetch + read the whole body under the same signal; throws TransportFailure on any transport error. */
export async function fetchAnswer(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  signals: Signals,
): Promise<{ response: Response; answer: RawAnswer }> {
  try {
    const response = await fetchImpl(url, { ...init, signal: signals.combined });
    const bodyText = await response.text();
    return { response, answer: { status: response.status, headers: response.headers, bodyText } };
  } catch (err) {
    throw new TransportFailure(transportFailure(err, signals));
  }
}
