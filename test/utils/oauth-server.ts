/**
 * A real OAuth 2.0 authorization server for tests: oidc-provider on 127.0.0.1:<random port>, memory adapter,
 * refresh-token rotation with reuse detection (reuse revokes the whole grant), revocation enabled, refresh
 * tokens minted through the models (docs/providers.md, "Test peers"). Shared with the refresh-race tests.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type JWK } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import { applyFault, type Fault, Hangs, readBody } from './provider-emulators';

export type { Fault } from './provider-emulators';

export interface OAuthServerOptions {
  /** rotateRefreshToken; default true. */
  rotate?: boolean;
  /** Access token TTL in seconds; default 60. */
  accessTokenTtl?: number;
  faults?: Fault[];
  /**
   * For connect sessions: oidc-provider's development login and consent forms (played headlessly by
   * test/utils/oauth-user.ts), PKCE required, and these redirect URIs registered for the client.
   */
  interactive?: { redirectUris: string[] };
  /** Adds `refresh_token_expires_in` to answers that carry a refresh token, as GitHub and Microsoft do. */
  refreshTokenExpiresIn?: number;
}

export interface OAuthServer {
  issuer: string;
  tokenUrl: string;
  revokeUrl: string;
  clientId: string;
  clientSecret: string;
  mintRefreshToken(accountId?: string): Promise<string>;
  /** POSTs to the token endpoint with grant_type=refresh_token, faulted ones included. */
  readonly tokenCalls: number;
  /** Refresh tokens presented again after they were used ("refresh token already used": the grant is revoked). */
  readonly reuseDetections: number;
  faults: Fault[];
  /** While true, every token-endpoint call answers 503 (an outage); calls are still counted. */
  outage: boolean;
  /** Whether the server accepts this access token (issued by it, not expired, grant not revoked). */
  accepts(accessToken: string): Promise<boolean>;
  /**
   * The client secret the server accepts from now on (the old one is rejected with invalid_client), as after
   * a rotation in the provider's console.
   */
  setClientSecret(secret: string): Promise<void>;
  /** Revokes the grant of a refresh token at the provider (RFC 7009), as an end user removing access would. */
  revoke(refreshToken: string): Promise<void>;
  close(): Promise<void>;
}

const CLIENT_ID = 'vault';
const CLIENT_SECRET = 'vault-secret';

/** One signing key per test file (ID tokens only), made here so oidc-provider uses no built-in dev key. */
let signingKey: JWK | undefined;
function testSigningKey(): JWK {
  signingKey ??= {
    ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as JWK),
    kid: 'test',
    use: 'sig',
    alg: 'RS256',
  };
  return signingKey;
}

export async function startOAuthServer(opts: OAuthServerOptions = {}): Promise<OAuthServer> {
  const faults = opts.faults ?? [];
  const hangs = new Hangs();
  let tokenCalls = 0;
  let reuseDetections = 0;

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_post', // oidc-provider accepts Basic for it too
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:9999/cb', ...(opts.interactive?.redirectUris ?? [])],
      },
    ],
    cookies: { keys: ['test-only-cookie-key'] },
    // Explicit choices where oidc-provider would otherwise warn about its development-only defaults: our own
    // signing key, its memory adapter with a store per server, no dev interactions unless a test plays the
    // user (the others mint refresh tokens through the models), and the revocation policy spelled out (a
    // client revokes its own tokens).
    jwks: { keys: [testSigningKey()] },
    adapter: createMemoryAdapter(),
    features: {
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      devInteractions: { enabled: opts.interactive !== undefined },
    },
    pkce: { required: () => opts.interactive !== undefined },
    rotateRefreshToken: opts.rotate ?? true,
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 60,
      IdToken: 3600,
      RefreshToken: 3600,
      Grant: 86_400,
      Interaction: 600,
      Session: 3600,
    },
    findAccount: (_ctx, sub) => Promise.resolve({ accountId: sub, claims: () => Promise.resolve({ sub }) }),
  });

  provider.on('grant.error', (_ctx, err) => {
    if ((err as { error_detail?: string }).error_detail === 'refresh token already used') reuseDetections++;
  });

  const state = { outage: false };
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
    const fault: Fault | undefined = state.outage
      ? { status: 503, body: '<html>Service Unavailable</html>' }
      : faults.shift();
    if (fault && !('hangMs' in fault)) {
      // The fault answers instead of the provider: read the body here to count the call.
      const params = new URLSearchParams(await readBody(ctx.req));
      if (params.get('grant_type') === 'refresh_token') tokenCalls++;
      ctx.respond = false;
      await applyFault(fault, ctx.req, ctx.res, hangs);
      return;
    }
    try {
      await next();
    } finally {
      const params = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params;
      if (params?.grant_type === 'refresh_token') tokenCalls++;
    }
    const answer = ctx.body as { refresh_token?: unknown } | undefined;
    if (opts.refreshTokenExpiresIn !== undefined && typeof answer?.refresh_token === 'string') {
      ctx.body = { ...answer, refresh_token_expires_in: opts.refreshTokenExpiresIn };
    }
    // A hang delays the answer of a request that was processed: a rotation the client never receives.
    if (fault) await applyFault(fault, ctx.req, ctx.res, hangs);
  });
  const handle = provider.callback();
  server.on('request', (req, res) => void handle(req, res));

  async function mintRefreshToken(accountId = 'user-1'): Promise<string> {
    const scope = 'openid offline_access';
    const client = await provider.Client.find(CLIENT_ID);
    if (!client) throw new Error('test client missing');
    const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    return new provider.RefreshToken({ accountId, client, grantId, scope, gty: 'authorization_code' }).save();
  }

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    revokeUrl: `${issuer}/token/revocation`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    mintRefreshToken,
    get tokenCalls() {
      return tokenCalls;
    },
    get reuseDetections() {
      return reuseDetections;
    },
    faults,
    get outage() {
      return state.outage;
    },
    set outage(v: boolean) {
      state.outage = v;
    },
    async setClientSecret(secret: string): Promise<void> {
      const client = await provider.Client.find(CLIENT_ID);
      if (!client) throw new Error('test client missing');
      Object.assign(client, { clientSecret: secret }); // the static client oidc-provider authenticates against
    },
    async accepts(accessToken: string): Promise<boolean> {
      const token = await provider.AccessToken.find(accessToken);
      if (!token || token.isExpired) return false;
      return Boolean(await provider.Grant.find(token.grantId ?? ''));
    },
    async revoke(refreshToken: string): Promise<void> {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: refreshToken,
          token_type_hint: 'refresh_token',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        }),
      });
      if (res.status !== 200) throw new Error(`revocation answered ${res.status}`);
    },
    close: () => {
      hangs.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
