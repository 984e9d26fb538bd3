/**
 * The one way the vault calls out (token, revoke and webhook URLs): undici's `request` through an Agent whose DNS
 * `lookup` hook checks every address a host name resolves to, at the moment the connection is made. A host that
 * passed the rules when its URL was set but resolves to a refused address now (DNS rebinding) is refused before
 * a byte is sent. Literal IP hosts never reach a lookup, so the URL itself is checked first. Redirects are
 * never followed: a 3xx comes back as the answer.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import {
  checkAddress,
  checkTarget,
  type OutboundPolicy,
  parseTarget,
  type Refusal,
  type Target,
} from './policy';

export const OUTBOUND_REFUSED = 'ERR_OUTBOUND_URL_REFUSED';

/** Thrown (or found along a fetch error's cause chain) when the rules refuse a call. */
export class OutboundRefusedError extends Error {
  readonly code = OUTBOUND_REFUSED;
  constructor(readonly reason: Refusal) {
    super(`outbound URL refused: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/** The refusal along an error's cause chain. Duck-typed: errors may come from another realm (jest's vm). */
export function refusalOf(err: unknown): Refusal | undefined {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, reason, cause } = e as { code?: unknown; reason?: unknown; cause?: unknown };
    if (code === OUTBOUND_REFUSED && typeof reason === 'string') return reason as Refusal;
    e = cause;
  }
  return undefined;
}

/** Every address of a host name (A and AAAA). Injectable so tests can play a rebinding DNS. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

export type OutboundFetch = (url: string, init: RequestInit) => Promise<Response>;

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** net's `lookup` option: resolve, refuse the whole host if any address is refused, answer as asked. */
function guardedLookup(scheme: Target['scheme'], policy: OutboundPolicy, resolver: Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolver(hostname)
      .then((all) => {
        for (const { address } of all) {
          const refusal = checkAddress({ scheme, host: hostname }, address, policy);
          if (refusal) throw new OutboundRefusedError(refusal);
        }
        const wanted = options.family ? all.filter((a) => a.family === options.family) : all;
        const first = wanted[0];
        if (!first) throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
        if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      })
      .catch((err: Error) => callback(err, ''));
  };
}

/**
 * A fetch that applies the outbound rules to the URL and to every address it connects to, and never follows a
 * redirect. Throws OutboundRefusedError (directly, or as the cause of fetch's TypeError) when refused.
 */
export function createOutboundFetch(
  policy: OutboundPolicy,
  resolver: Resolver = systemResolver,
): OutboundFetch {
  const agents = {
    http: new Agent({ connect: { lookup: guardedLookup('http', policy, resolver) } }),
    https: new Agent({ connect: { lookup: guardedLookup('https', policy, resolver) } }),
  };
  return async (url, init) => {
    const target = parseTarget(url);
    if (typeof target === 'string') throw new OutboundRefusedError(target);
    const refusal = checkTarget(target, policy);
    if (refusal) throw new OutboundRefusedError(refusal);
    return send(url, init, agents[target.scheme]);
  };
}

/**
 * A pull-based web stream over a Node one: each read takes the next chunk, a cancel destroys the socket's
 * stream. (`Readable.toWeb` throws from an event handler when cancelled after the end.)
 */
function webStreamOf(body: Readable): ReadableStream<Uint8Array> {
  // A destroyed body (cancelled, aborted) reports its error to a pending read; an idle one has no reader.
  body.on('error', () => undefined);
  const chunks: AsyncIterator<Uint8Array, undefined> = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Statuses whose Response may carry no body (Fetch standard). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * One call through undici's `request`, answered as a Fetch `Response`: `request` never follows a redirect, and
 * costs a fraction of `fetch`'s CPU per call (fetch's Request/Response machinery weighed more than the rest of
 * a scheduled refresh in bench:refresh's profile). The body stays a stream, so readers keep their size caps.
 */
async function send(url: string, init: RequestInit, dispatcher: Agent): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (body instanceof URLSearchParams) {
    if (!headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
    body = body.toString();
  }
  const res = await request(url, {
    method: init.method ?? 'GET',
    headers: Object.fromEntries(headers),
    body: (body ?? null) as string | Buffer | null,
    signal: init.signal ?? undefined,
    dispatcher,
  });
  const answerHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) answerHeaders.append(name, v);
    else if (value !== undefined) answerHeaders.append(name, value);
  }
  if (NULL_BODY_STATUSES.has(res.statusCode)) {
    res.body.destroy();
    return new Response(null, { status: res.statusCode, headers: answerHeaders });
  }
  return new Response(webStreamOf(res.body), { status: res.statusCode, headers: answerHeaders });
}
