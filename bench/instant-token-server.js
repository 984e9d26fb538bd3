'use strict';
/**
 * An instant OAuth 2.0 token endpoint for `npm run bench:refresh` (bench/refresh.js), run in its own process.
 *
 *   POST /token  grant_type=refresh_token (form body, client_secret_post or Basic): answers at once with a new
 *                access token and a new (rotated) refresh token, expires_in 3600.
 *   GET  /stats  what it saw: calls, calls per original refresh token (= per connection, following the
 *                rotation chain), refresh tokens presented more than once (= double refreshes), unknown
 *                refresh tokens, malformed requests.
 *
 *   POST /client-secret  (body: the new secret) the client secret accepted from now on, as after a rotation in
 *                a provider's console; bench:rotation uses it.
 *
 * Original refresh tokens are the ones the benchmark imported; they start with ORIGINAL_PREFIX. Every token
 * this server issues remembers the original it descends from, so calls per connection survive rotation.
 * TOKEN_SERVER_CLIENT_SECRET: only this client secret is accepted (others: 401 invalid_client, counted);
 * any secret when unset. TOKEN_SERVER_EXPIRES_IN: the access tokens' lifetime in seconds (default 3600).
 * Prints `{"port": N}` on stdout once listening (127.0.0.1, port 0 unless TOKEN_SERVER_PORT is set).
 */
const crypto = require('node:crypto');
const http = require('node:http');

const ORIGINAL_PREFIX = 'bench-rt-';
const EXPIRES_IN = Number(process.env.TOKEN_SERVER_EXPIRES_IN || 3600);
let acceptedSecret = process.env.TOKEN_SERVER_CLIENT_SECRET || null;

/** refresh token -> times presented */
const presented = new Map();
/** refresh token issued here -> the original it descends from */
const rootOf = new Map();
/** original refresh token -> calls made along its chain */
const callsPerOriginal = new Map();
const stats = {
  calls: 0,
  badRequests: 0,
  unknownTokens: 0,
  invalidClient: 0,
  secretChangedAt: null,
  /** The first call accepted with the secret set by POST /client-secret. */
  firstCallWithNewSecretAt: null,
  firstCallAt: null,
  lastCallAt: null,
};

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function onToken(req, res, raw) {
  const form = new URLSearchParams(raw);
  const rt = form.get('refresh_token');
  const hasClient =
    (form.get('client_id') && form.get('client_secret')) || /^Basic /i.test(req.headers.authorization || '');
  if (form.get('grant_type') !== 'refresh_token' || !rt || !hasClient) {
    stats.badRequests++;
    return answer(res, 400, { error: 'invalid_request' });
  }
  if (acceptedSecret !== null && clientSecret(req, form) !== acceptedSecret) {
    stats.invalidClient++;
    return answer(res, 401, { error: 'invalid_client' });
  }
  const now = Date.now();
  if (stats.secretChangedAt !== null) stats.firstCallWithNewSecretAt ??= now;
  stats.calls++;
  stats.firstCallAt ??= now;
  stats.lastCallAt = now;
  presented.set(rt, (presented.get(rt) || 0) + 1);
  const root = rt.startsWith(ORIGINAL_PREFIX) ? rt : rootOf.get(rt);
  if (!root) stats.unknownTokens++;
  else callsPerOriginal.set(root, (callsPerOriginal.get(root) || 0) + 1);
  const next = `bench-rotated-${crypto.randomBytes(12).toString('hex')}`;
  if (root) rootOf.set(next, root);
  return answer(res, 200, {
    access_token: `bench-at-${crypto.randomBytes(12).toString('hex')}`,
    token_type: 'Bearer',
    expires_in: EXPIRES_IN,
    refresh_token: next,
  });
}

function clientSecret(req, form) {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
  if (!basic) return form.get('client_secret');
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  return decodeURIComponent(decoded.slice(decoded.indexOf(':') + 1));
}

function onStats(res) {
  const duplicates = [];
  let duplicateTokens = 0;
  for (const [token, n] of presented) {
    if (n > 1) {
      duplicateTokens++;
      if (duplicates.length < 20) duplicates.push({ token, times: n });
    }
  }
  /** calls made per original (connection): { "1": 9990, "2": 10 } */
  const callsPerConnection = {};
  let originalsPresentedOnce = 0;
  for (const [root, n] of callsPerOriginal) {
    callsPerConnection[n] = (callsPerConnection[n] || 0) + 1;
    if (presented.get(root) === 1) originalsPresentedOnce++;
  }
  answer(res, 200, {
    ...stats,
    distinctTokens: presented.size,
    connectionsSeen: callsPerOriginal.size,
    originalsPresentedOnce,
    callsPerConnection,
    duplicateTokens,
    duplicates,
  });
}

const server = http.createServer((req, res) => {
  const url = req.url || '/';
  if (req.method === 'GET' && url === '/stats') return onStats(res);
  if (req.method === 'POST' && url === '/client-secret') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      acceptedSecret = Buffer.concat(chunks).toString('utf8');
      stats.secretChangedAt = Date.now();
      stats.firstCallWithNewSecretAt = null;
      answer(res, 200, { ok: true });
    });
    return undefined;
  }
  if (req.method === 'POST' && url === '/token') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => onToken(req, res, Buffer.concat(chunks).toString('utf8')));
    return undefined;
  }
  return answer(res, 404, { error: 'not_found' });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.TOKEN_SERVER_PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
