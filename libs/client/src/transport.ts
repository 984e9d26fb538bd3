import { UnavailableError, VaultConnectionError, errorFromAnswer, isRecord, VaultApiError } from './errors';

export interface TransportSettings {
  baseUrl: string;
  authorization: string;
  fetch: typeof fetch;
  requestTimeoutMs: number;
  retryDeadlineMs: number;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Time this call may spend waiting out 503s, in ms (default: the client's `retryDeadlineMs`). */
  retryDeadlineMs?: number;
}

export interface Answer<T> {
  body: T;
  /** The answer's `Date` header in ms, or null. */
  serverDate: number | null;
  /** Local clock when the (last) request was sent. */
  sentAt: number;
}

/**
 * One API call: JSON in and out, typed errors, and 503s retried after their `Retry-After` (header, else the
 * body's `retry_after`, else 1 s) while the wait still ends before the deadline. Nothing of the request's
 * headers or the answer's raw text goes into an error.
 */
export async function call<T>(
  s: TransportSettings,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  opts: CallOptions = {},
): Promise<Answer<T>> {
  const url = new URL(s.baseUrl + path);
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));
  const what = `${method} ${url.pathname}`;
  const deadline = s.now() + (opts.retryDeadlineMs ?? s.retryDeadlineMs);
  const key = s.authorization.slice('Bearer '.length);
  const redact = (text: string) => text.split(key).join('[redacted]');
  const headers: Record<string, string> = { authorization: s.authorization, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  for (;;) {
    const sentAt = s.now();
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(s.requestTimeoutMs);
      res = await s.fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
    } catch {
      if (opts.signal?.aborted) throw abortReason(opts.signal);
      throw new VaultConnectionError(
        `${what}: the vault could not be reached or did not answer`,
        'connection_failed',
        0,
      );
    }
    const body = await readJson(res);
    if (res.ok) {
      if (body === undefined)
        throw new VaultApiError(`${what}: the answer is not JSON`, 'invalid_response', res.status);
      const date = Date.parse(res.headers.get('date') ?? '');
      return { body: body as T, serverDate: Number.isNaN(date) ? null : date, sentAt };
    }
    const retryAfter = retryAfterSeconds(res.headers.get('retry-after'), body, s.now());
    const err = errorFromAnswer(what, res.status, body, retryAfter, redact);
    if (!(err instanceof UnavailableError)) throw err;
    const waitMs = (retryAfter ?? 1) * 1000;
    if (s.now() + waitMs > deadline) throw err;
    await s.sleep(waitMs, opts.signal);
  }
}

/** `Retry-After` as delta-seconds or an HTTP date, else the body's `retry_after`; null when neither says. */
export function retryAfterSeconds(header: string | null, body: unknown, now: number): number | null {
  if (header !== null) {
    const v = header.trim();
    if (/^\d+$/.test(v)) return Number(v);
    const at = Date.parse(v);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  const fromBody = isRecord(body) ? body.retry_after : undefined;
  return typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0 ? fromBody : null;
}

/** The parsed JSON body, or undefined when the body is empty or not JSON. */
async function readJson(res: Response): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return undefined;
  }
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a signal aborted, as an Error (a DOMException `AbortError`/`TimeoutError` unless the caller gave one). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('the operation was aborted', 'AbortError');
}

/** setTimeout as a promise that an AbortSignal can cut short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
