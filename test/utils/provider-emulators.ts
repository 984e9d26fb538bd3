/**
 * Small node:http emulators of provider token endpoints on 127.0.0.1:<random port>, answering as the real
 * providers do (docs/providers.md, Google and Slack), with a fault queue for transport and server trouble.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One fault per token-endpoint call, taken from the front of the queue. */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hangMs: number } // the answer comes hangMs late; the request is processed all the same (a lost rotation)
  | { reset: true } // destroy the socket after the request was read
  | { garbage: true }; // HTTP 200 with a non-JSON body

export interface Emulator {
  url: string;
  tokenUrl: string;
  revokeUrl: string;
  clientId: string;
  clientSecret: string;
  faults: Fault[];
  /** Token endpoint calls, faulted ones included. */
  readonly calls: number;
  callsFor(refreshToken: string): number;
  issue(opts?: IssueOptions): string;
  revoke(refreshToken: string): void;
  close(): Promise<void>;
}

export interface IssueOptions {
  scopes?: string[];
  /** Google only: answer invalid_grant with error_subtype invalid_rapt (Workspace session control). */
  raptRequired?: boolean;
}

export function mint(prefix: string, bytes = 24): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** Client credentials from HTTP Basic (form-urlencoded inside, RFC 6749 §2.3.1) or from the body. */
export function clientCredentials(
  req: IncomingMessage,
  params: URLSearchParams,
): { id?: string; secret?: string } {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  }
  return { id: params.get('client_id') ?? undefined, secret: params.get('client_secret') ?? undefined };
}

/** Timers of hanging faults, cleared on close so a closed emulator leaves nothing running. */
export class Hangs {
  private readonly timers = new Set<NodeJS.Timeout>();
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Applies a fault on a raw request/response; 'continue' means "now answer normally". */
export async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  hangs: Hangs,
): Promise<'handled' | 'continue'> {
  if ('hangMs' in fault) {
    await hangs.wait(fault.hangMs);
    return 'continue';
  }
  if ('reset' in fault) {
    req.socket.destroy();
  } else if ('garbage' in fault) {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>\u0000\u00ff garbage {"access_token":</body>');
  } else if (typeof fault.body === 'string' || fault.body === undefined) {
    res.writeHead(fault.status, { 'content-type': 'text/html; charset=utf-8', ...fault.headers });
    res.end(fault.body ?? '');
  } else {
    sendJson(res, fault.status, fault.body, fault.headers);
  }
  return 'handled';
}

type TokenHandler = (req: IncomingMessage, res: ServerResponse, params: URLSearchParams) => void;
type Routes = { token: string; revoke: string };

/** The shared server: counts token calls per presented refresh token, applies faults, routes. */
async function startEmulator(
  routes: Routes,
  handlers: { token: TokenHandler; revoke: TokenHandler },
  state: { issue(opts?: IssueOptions): string; revoke(rt: string): void },
  clientId: string,
): Promise<Emulator> {
  const faults: Fault[] = [];
  const perToken = new Map<string, number>();
  const hangs = new Hangs();
  let calls = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const params = new URLSearchParams(await readBody(req));
      if (req.method === 'POST' && req.url === routes.token) {
        calls++;
        const rt = params.get('refresh_token');
        if (rt !== null) perToken.set(rt, (perToken.get(rt) ?? 0) + 1);
        const fault = faults.shift();
        if (fault && (await applyFault(fault, req, res, hangs)) === 'handled') return;
        // After a hang the request is processed even if the client gave up, as a real server would.
        handlers.token(req, res, params);
      } else if (req.method === 'POST' && req.url === routes.revoke) {
        handlers.revoke(req, res, params);
      } else {
        sendJson(res, 404, { error: 'not_found' });
      }
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tokenUrl: url + routes.token,
    revokeUrl: url + routes.revoke,
    clientId,
    clientSecret: `${clientId}-secret`,
    faults,
    get calls() {
      return calls;
    },
    callsFor: (rt) => perToken.get(rt) ?? 0,
    issue: (opts) => state.issue(opts),
    revoke: (rt) => state.revoke(rt),
    close: () => {
      hangs.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Grant {
  scopes: string[];
  revoked: boolean;
  raptRequired: boolean;
}

/** Google: non-rotating RTs, answers without refresh_token, expires_in 3599, 400 invalid_grant when revoked. */
export async function startGoogleEmulator(): Promise<Emulator> {
  const clientId = '1234567890-vault.apps.googleusercontent.com';
  const secret = `${clientId}-secret`;
  const grants = new Map<string, Grant>();
  const accessTokens = new Map<string, string>(); // access token → refresh token

  const tokenHandler: TokenHandler = (req, res, params) => {
    const creds = clientCredentials(req, params);
    if (creds.id !== clientId) {
      return sendJson(res, 401, {
        error: 'invalid_client',
        error_description: 'The OAuth client was not found.',
      });
    }
    if (creds.secret !== secret)
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
    if (params.get('grant_type') !== 'refresh_token') {
      return sendJson(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'Invalid grant_type: ',
      });
    }
    const rt = params.get('refresh_token');
    if (!rt) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'Missing required parameter: refresh_token',
      });
    }
    const grant = grants.get(rt);
    if (!grant || grant.revoked) {
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'Token has been expired or revoked.',
      });
    }
    if (grant.raptRequired) {
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'reauth related error (invalid_rapt)',
        error_uri: 'https://support.google.com/a/answer/9368756',
        error_subtype: 'invalid_rapt',
      });
    }
    const at = mint('ya29.a0', 48);
    accessTokens.set(at, rt);
    sendJson(res, 200, {
      access_token: at,
      expires_in: 3599,
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
    });
  };

  const revokeRt = (rt: string) => {
    const grant = grants.get(rt);
    if (grant) grant.revoked = true;
  };
  const revoke: TokenHandler = (_req, res, params) => {
    const value = params.get('token') ?? '';
    const rt = grants.has(value) ? value : accessTokens.get(value);
    if (rt === undefined || grants.get(rt)?.revoked) {
      return sendJson(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    }
    revokeRt(rt); // revoking an access token also revokes its refresh token
    sendJson(res, 200, {});
  };

  const issue = (opts: IssueOptions = {}) => {
    const rt = mint('1//0g', 64);
    const scopes = opts.scopes ?? ['openid', 'https://www.googleapis.com/auth/userinfo.email'];
    grants.set(rt, { scopes, revoked: false, raptRequired: opts.raptRequired ?? false });
    return rt;
  };
  return startEmulator(
    { token: '/token', revoke: '/revoke' },
    { token: tokenHandler, revoke },
    { issue, revoke: revokeRt },
    clientId,
  );
}

/** Slack oauth.v2.access with token rotation: errors are HTTP 200 ok:false; a used RT is dead at once. */
export async function startSlackEmulator(): Promise<Emulator> {
  const clientId = '3336676.569200954261';
  const secret = `${clientId}-secret`;
  const live = new Map<string, string[]>(); // live refresh token → scopes
  const accessTokens = new Set<string>();
  const fail = (res: ServerResponse, error: string) => sendJson(res, 200, { ok: false, error });

  const tokenHandler: TokenHandler = (req, res, params) => {
    const creds = clientCredentials(req, params);
    if (creds.id !== clientId) return fail(res, 'invalid_client_id');
    if (creds.secret !== secret) return fail(res, 'bad_client_secret');
    if (params.get('grant_type') !== 'refresh_token') return fail(res, 'invalid_grant_type');
    const rt = params.get('refresh_token');
    if (!rt) return fail(res, 'invalid_arguments');
    const scopes = live.get(rt);
    if (!scopes) return fail(res, 'invalid_refresh_token');
    live.delete(rt); // rotation: the presented RT is revoked
    const next = mint('xoxe-1-');
    live.set(next, scopes);
    const at = mint('xoxe.xoxb-1-');
    accessTokens.add(at);
    sendJson(res, 200, {
      ok: true,
      app_id: 'A0KRD7HC3',
      authed_user: { id: 'U1234' },
      scope: scopes.join(','),
      token_type: 'bot',
      access_token: at,
      bot_user_id: 'U0KRQLJ9H',
      refresh_token: next,
      expires_in: 43200,
      team: { id: 'T9TK3CUKW', name: 'Vault Test Team' },
      enterprise: null,
      is_enterprise_install: false,
    });
  };

  const revoke: TokenHandler = (req, res, params) => {
    const bearer = req.headers.authorization?.startsWith('Bearer ')
      ? req.headers.authorization.slice(7)
      : undefined;
    const value = params.get('token') ?? bearer ?? '';
    if (!accessTokens.delete(value)) return fail(res, 'invalid_auth');
    sendJson(res, 200, { ok: true, revoked: true });
  };

  const issue = (opts: IssueOptions = {}) => {
    const rt = mint('xoxe-1-');
    live.set(rt, opts.scopes ?? ['chat:write', 'channels:read']);
    return rt;
  };
  return startEmulator(
    { token: '/api/oauth.v2.access', revoke: '/api/auth.revoke' },
    { token: tokenHandler, revoke },
    { issue, revoke: (rt) => void live.delete(rt) },
    clientId,
  );
}
