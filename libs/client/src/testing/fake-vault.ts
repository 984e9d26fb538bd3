import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answer of the fake: status, JSON (or raw text) body, headers; `hold` delays it until released. */
export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  hold?: Promise<void>;
  /** Never answer (the client's timeout must cut it). */
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  at: number;
}

/**
 * A node:http stand-in for the vault, for the client's timing and retry edge cases only (the client's
 * behaviour against the real API is tested in test/integration/client.int-spec.ts).
 */
export interface FakeVault {
  url: string;
  seen: SeenRequest[];
  /** Answers in order; the last one repeats. */
  answers: FakeAnswer[];
  answeredAt: number[];
  close(): Promise<void>;
}

export async function startFakeVault(answers: FakeAnswer[] = []): Promise<FakeVault> {
  const seen: SeenRequest[] = [];
  const answeredAt: number[] = [];
  const open = new Set<ServerResponse>();
  const state = { answers };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const a = state.answers.length > 1 ? state.answers.shift() : state.answers[0];
      if (!a || a.hang) {
        open.add(res);
        return;
      }
      if (a.hold) await a.hold;
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {});
      res.writeHead(a.status, {
        'content-type': typeof a.body === 'string' ? 'text/html' : 'application/json',
        ...a.headers,
      });
      res.end(text);
      answeredAt.push(Date.now());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get answers() {
      return state.answers;
    },
    set answers(v: FakeAnswer[]) {
      state.answers = v;
    },
    answeredAt,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A token answer expiring `ttlSeconds` after `now` (ms). */
export function tokenAnswer(id: string, value: string, ttlSeconds: number, now = Date.now()): FakeAnswer {
  return {
    status: 200,
    body: {
      connection_id: id,
      access_token: value,
      token_type: 'Bearer',
      expires_at: new Date(now + ttlSeconds * 1000).toISOString(),
      scopes: ['read'],
    },
  };
}
