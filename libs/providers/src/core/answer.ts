/** Pure helpers to read one raw token-endpoint answer: body parsing, Retry-After, safe descriptions and shapes. */

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

/** Seconds to wait from Retry-After (delta or HTTP date) or x-ratelimit-reset (UNIX time or delta). */
export function retryAfterSeconds(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const n = Number(reset);
    return n > 1_000_000_000 ? Math.max(0, Math.ceil(n - nowMs / 1000)) : n;
  }
  return undefined;
}

const TOKENISH = /[A-Za-z0-9._~+/=-]{24,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A provider description made safe to store: secrets we know are cut out, any other long token-like run
 * (24+ token characters mixing letters and digits) is redacted, UUIDs such as Microsoft trace IDs are kept;
 * then truncated to 200 characters.
 */
export function safeDescription(
  text: string | undefined,
  secrets: readonly string[] = [],
): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = out.replace(TOKENISH, (run) =>
    UUID.test(run) || !/[0-9]/.test(run) || !/[A-Za-z]/.test(run) ? run : '[redacted]',
  );
  return out.length > 200 ? out.slice(0, 200) : out;
}

/** The answer's shape without values: `json{a,b}` (sorted keys) or the content type and length. */
export function shapeOf(body: ParsedBody): string {
  if (body.kind === 'json') return `json{${Object.keys(body.value).sort().join(',')}}`;
  return `${body.contentType};len=${body.length}`;
}
