'use strict';
/**
 * Baseline for the token benchmark: the least work that can answer
 * `GET /v1/connections/:id/token?min_ttl=SECONDS` from the vault's database.
 *
 * Per request: parse the id, one primary-key SELECT through a pg.Pool (same size as the API's pool), one
 * AES-256-GCM open with a data key unwrapped once at start, and a JSON answer of the same shape as the
 * vault's. No auth, no framework, no logging, no metrics.
 *
 * It reuses the vault's compiled crypto (sealed format, LocalKms, data key context) so that it opens exactly
 * what the vault sealed; the vault must have been built first (`nest build vault-api`).
 *
 * Env: PORT, HOST (default 127.0.0.1), DATABASE_URL, LOCAL_KMS_KEY (base64, 32 bytes), DATABASE_POOL_SIZE (10).
 * Serves GET /health (200 once the data keys are loaded).
 */
const http = require('node:http');
const path = require('node:path');
const { Pool } = require('pg');

const CRYPTO_DIST = path.join(__dirname, '..', 'dist', 'apps', 'vault-api', 'libs', 'crypto', 'src');
const { openWithKey, dataKeyIdOf } = require(path.join(CRYPTO_DIST, 'sealed.js'));
const { LocalKms } = require(path.join(CRYPTO_DIST, 'local-kms.js'));
const { dataKeyContext } = require(path.join(CRYPTO_DIST, 'types.js'));

const TOKEN_PATH =
  /^\/v1\/connections\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/token$/i;
const SELECT_TOKEN =
  'SELECT access_token_sealed, access_token_expires_at, token_type, scopes, tenant_id, status ' +
  'FROM connections WHERE id = $1';

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE || 10),
  application_name: 'vault-bench-bare',
});

/** data key id -> unwrapped 32-byte key; filled once at start, like the vault's warm data key cache. */
const dataKeys = new Map();

async function loadDataKeys() {
  // Same construction as libs/core/src/crypto/kms.factory.ts (key ID derived from the master key).
  const kms = new LocalKms({
    masterKey: Buffer.from(process.env.LOCAL_KMS_KEY || '', 'base64'),
  });
  const { rows } = await pool.query('SELECT id, kms_key_id, wrapped_key FROM data_keys');
  for (const row of rows) {
    dataKeys.set(row.id, await kms.decrypt(row.wrapped_key, dataKeyContext(row.id), row.kms_key_id));
  }
}

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

async function token(res, id, minTtlSeconds) {
  // A named prepared statement, as the vault uses: parsed and planned once per pooled connection.
  const { rows } = await pool.query({ name: 'bare_token_row', text: SELECT_TOKEN, values: [id] });
  const row = rows[0];
  if (!row) return send(res, 404, { error: 'not_found' });
  const servable = row.status === 'active' || row.status === 'refresh_failing';
  const expiresAt = row.access_token_expires_at;
  if (
    !servable ||
    !row.access_token_sealed ||
    !expiresAt ||
    expiresAt.getTime() - Date.now() < minTtlSeconds * 1000
  ) {
    // The bare server never refreshes; the benchmark seeds tokens valid for a day.
    return send(res, 503, { error: 'provider_unavailable' });
  }
  const key = dataKeys.get(dataKeyIdOf(row.access_token_sealed));
  if (!key) return send(res, 500, { error: 'unknown_data_key' });
  const accessToken = openWithKey(key, row.access_token_sealed, `connection:${id}:access_token`).toString(
    'utf8',
  );
  send(res, 200, {
    connection_id: id,
    access_token: accessToken,
    token_type: row.token_type,
    expires_at: expiresAt.toISOString(),
    scopes: row.scopes,
  });
}

const server = http.createServer((req, res) => {
  const q = req.url.indexOf('?');
  const pathname = q === -1 ? req.url : req.url.slice(0, q);
  const match = req.method === 'GET' ? TOKEN_PATH.exec(pathname) : null;
  if (match) {
    const minTtl = q === -1 ? null : new URLSearchParams(req.url.slice(q + 1)).get('min_ttl');
    token(res, match[1].toLowerCase(), minTtl === null ? 60 : Number(minTtl)).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { error: 'internal_error' });
    });
  } else if (pathname === '/health') {
    send(res, 200, { status: 'ok', data_keys: dataKeys.size });
  } else {
    send(res, 404, { error: 'not_found' });
  }
});
server.keepAliveTimeout = 65_000;

loadDataKeys()
  .then(() => {
    server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
      console.log(
        `bare-server listening on ${JSON.stringify(server.address())}, ${dataKeys.size} data key(s)`,
      );
    });
  })
  .catch((err) => {
    console.error('bare-server failed to start:', err);
    process.exit(1);
  });

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    pool.end().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
