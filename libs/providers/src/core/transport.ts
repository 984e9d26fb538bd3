/**
 * Sends one request, reads its answer under a size cap, and maps transport failures (timeout, refused, reset,
 * an outbound URL refused by the rules, an answer too large) to a ProviderFailure.
 */
import { type OutboundFetch, refusalOf } from '../outbound/outbound-fetch';
import type { ProviderFailure, RawAnswer } from '../types';
import { safeCode } from './answer';

/** The largest token or revocation answer read (design 6b); a larger one is refused unread. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Thrown through oauth4webapi's customFetch so a transport failure (or an answer we refuse to read) can be told
 * apart from a config error.
 */
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
  const refusal = refusalOf(err);
  if (refusal !== undefined) {
    // Nothing was sent: the URL, or an address its host resolved to, is against the outbound rules.
    return {
      class: 'integration_error',
      code: 'outbound_url_refused',
      subCode: refusal,
      httpStatus: null,
      ambiguous: false,
    };
  }
  if (signals.timeout.aborted)
    return { class: 'transient', code: 'timeout', httpStatus: null, ambiguous: true };
  if (signals.caller?.aborted)
    return { class: 'transient', code: 'aborted', httpStatus: null, ambiguous: true };
  const errno = safeCode(errnoOf(err));
  if (errno !== undefined && NOT_SENT.has(errno)) {
    return { class: 'transient', code: 'connect_failed', subCode: errno, httpStatus: null, ambiguous: false };
  }
  // Reset, "other side closed", or anything unknown: the request may have been processed.
  return { class: 'transient', code: 'connection_reset', subCode: errno, httpStatus: null, ambiguous: true };
}

class AnswerTooLarge extends Error {}

/**
 * The body as text, at most `maxBytes` of it: a declared or streamed length beyond that cancels the stream
 * (closing the connection) and throws AnswerTooLarge.
 */
export async function readCapped(response: Response, maxBytes: number = MAX_ANSWER_BYTES): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge();
  }
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** fetch + read the body (capped) under the same signal; throws TransportFailure on any transport error. */
export async function fetchAnswer(
  fetchImpl: OutboundFetch,
  url: string,
  init: RequestInit,
  signals: Signals,
): Promise<{ response: Response; answer: RawAnswer }> {
  let status: number | null = null;
  try {
    const response = await fetchImpl(url, { ...init, redirect: 'manual', signal: signals.combined });
    status = response.status;
    const bodyText = await readCapped(response);
    return { response, answer: { status: response.status, headers: response.headers, bodyText } };
  } catch (err) {
    if (err instanceof AnswerTooLarge) {
      // The provider answered, so it processed the request: a rotation may be in this answer we will not read.
      throw new TransportFailure({
        class: 'provider_error',
        code: 'answer_too_large',
        httpStatus: status,
        ambiguous: true,
        shape: `len>${MAX_ANSWER_BYTES}`,
      });
    }
    throw new TransportFailure(transportFailure(err, signals));
  }
}
