import type { Socket } from 'node:net';
import type { VaultErrorCode } from '@vault/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bad input that Fastify or Node's HTTP parser refuses before Nest sees the request would otherwise get
 * their own answer shapes. These answer in ours: `{ error, message, field? }` with a stable code.
 */
interface Answer {
  status: number;
  body: { error: VaultErrorCode; message: string; field?: string };
}

const BAD_URL: Answer = {
  status: 400,
  body: { error: 'validation_failed', field: 'url', message: 'url: is not valid percent-encoding' },
};
const LONG_PARAM: Answer = {
  status: 400,
  body: {
    error: 'validation_failed',
    field: 'url',
    message: 'url: a path segment is longer than 100 characters',
  },
};

/** Fastify's `frameworkErrors`: a path that does not decode, or a path parameter over maxParamLength. */
export function frameworkErrors(
  error: { code?: string },
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const answer = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? LONG_PARAM : BAD_URL;
  void reply.status(answer.status).header('cache-control', 'no-store').send(answer.body);
}

/** Node's HTTP parser refused the request (bad request line or header, header block too large, timeout). */
export function clientErrorHandler(err: { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const answer: Answer =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? {
          status: 431,
          body: { error: 'headers_too_large', message: 'the request headers are larger than the limit' },
        }
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? { status: 408, body: { error: 'request_timeout', message: 'the request took too long to arrive' } }
        : {
            status: 400,
            body: { error: 'validation_failed', field: 'request', message: 'request: is not valid HTTP' },
          };
  if (socket.writable) {
    const body = JSON.stringify(answer.body);
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_TEXT[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * An `onRequest` hook: a query string whose percent-encoding does not decode is a 400 naming the parameter
 * (Fastify's parser would pass the undecoded text on as if it were a value).
 */
export function refuseMalformedQuery(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  // Only a `%` can make percent-decoding fail: most queries have none and cost one scan.
  if (q >= 0 && url.includes('%', q)) {
    for (const pair of url.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      const name = eq >= 0 ? pair.slice(0, eq) : pair;
      if (decodes(pair.replace(/\+/g, ' '))) continue;
      const field = decodes(name) ? decodeURIComponent(name) : 'query';
      void reply
        .status(400)
        .header('cache-control', 'no-store')
        .send({ error: 'validation_failed', field, message: `${field}: is not valid percent-encoding` });
      return;
    }
  }
  done();
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
