/**
 * Pure helpers to read one raw token-endpoint answer: body parsing, Retry-After, and what of an answer may be
 * echoed into events and errors: its shape (status, a sanitised `error` code, a bounded key set), never its text.
 */

export type JsonObject = Record<string, unknown>;

export type ParsedBody =
  { kind: 'json'; value: JsonObject } | { kind: 'other'; contentType: string; length: number };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** JSON objects whatever the content type; form-urlencoded answers (GitHub without Accept) as an object too. */
export function parseBody(headers: Headers, bodyText: string): ParsedBody {
  const type = mediaType(headers);
  const text = bodyText.trim();
  if (text.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(text);
      if (isObject(value)) return { kind: 'json', value };
    } catch {
      // falls through: not JSON
    }
  }
  if (type === 'application/x-www-form-urlencoded' && text !== '') {
    return { kind: 'json', value: Object.fromEntries(new URLSearchParams(text)) };
  }
  return { kind: 'other', contentType: type || 'none', length: bodyText.length };
}

export function stringField(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A non-negative number of seconds, also from numeric strings (some providers quote numbers). */
export function secondsField(body: JsonObject, key: string): number | null {
  const value = body[key];
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
}

/** Longest wait a header may ask for, before the engine's own cap: ~68 years, still a safe integer of ms. */
const MAX_PARSED_WAIT_SECONDS = 2 ** 31 - 1;
const HTTP_DATE = /^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,? [0-9a-z :-]{10,40}$/i;

function boundedWait(seconds: number): number | undefined {
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_PARSED_WAIT_SECONDS, Math.max(0, Math.ceil(seconds)));
}

/**
 * Seconds to wait from Retry-After (delta or HTTP date) or x-ratelimit-reset (UNIX time or delta); undefined
 * when absent or unreadable. Always a finite whole number between 0 and ~68 years (negative, NaN, absurdly
 * large values and far-away dates cannot escape); RATE_LIMIT_MAX_WAIT_SECONDS is applied by the caller.
 */
export function retryAfterSeconds(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim().slice(0, 64);
  if (retryAfter) {
    if (/^\d{1,20}$/.test(retryAfter)) return boundedWait(Number(retryAfter));
    if (HTTP_DATE.test(retryAfter)) {
      const at = Date.parse(retryAfter);
      if (!Number.isNaN(at)) return boundedWait((at - nowMs) / 1000);
    }
  }
  const reset = headers.get('x-ratelimit-reset')?.trim().slice(0, 64);
  if (reset && /^\d{1,20}$/.test(reset)) {
    const n = Number(reset);
    return boundedWait(n > 1_000_000_000 ? n - nowMs / 1000 : n);
  }
  return undefined;
}

/** What an `error` code (or sub-code) from an answer may look like to be echoed. */
const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Stands for any code that does not look like one (too long, spaces, quotes, control characters…). */
export const MALFORMED_CODE = 'malformed_error_code';

/** The code when it looks like a code, the fixed placeholder otherwise; undefined stays undefined. */
export function safeCode(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  return SAFE_CODE.test(code) ? code : MALFORMED_CODE;
}

const SAFE_KEY = /^[A-Za-z0-9_.:-]{1,40}$/;
const MAX_SHAPE_KEYS = 20;
const SAFE_MEDIA_TYPE = /^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,60}$/;

/**
 * The answer's shape without values: `json{a,b}` (sorted keys; at most 20, odd-looking keys as `?`, then
 * `+N`) or the media type and length. Bounded whatever the answer holds.
 */
export function shapeOf(body: ParsedBody): string {
  if (body.kind === 'json') {
    const keys = [...new Set(Object.keys(body.value).map((k) => (SAFE_KEY.test(k) ? k : '?')))].sort();
    const shown = keys.slice(0, MAX_SHAPE_KEYS);
    const more = keys.length - shown.length;
    return `json{${shown.join(',')}${more > 0 ? `,+${more}` : ''}}`;
  }
  const type =
    body.contentType === 'none' || SAFE_MEDIA_TYPE.test(body.contentType) ? body.contentType : 'other';
  return `${type};len=${body.length}`;
}
