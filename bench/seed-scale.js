'use strict';
/**
 * `npm run seed:scale`: puts SEED_ROWS (default 1,000,000) sealed connections into a vault database fast, with
 * PostgreSQL's COPY (pg-copy-streams), for `npm run bench:scale` and for trying the vault at scale by hand.
 *
 * The rows are what the API would have stored: refresh and access tokens sealed (AES-256-GCM under one data key
 * wrapped by the local KMS with LOCAL_KMS_KEY, each bound to its connection by the associated data), spread
 * over SEED_TENANTS tenants and SEED_INTEGRATIONS integrations, access tokens expiring uniformly over the next
 * SEED_SPREAD_HOURS (default 24) and next_refresh_at set as the vault sets it (expiry minus its margin), so
 * only a thin slice is near due at any moment. A share (SEED_NEEDS_REAUTH_PERCENT, default 2) needs reauth.
 *
 *   SEED_DATABASE_URL   the database (created and migrated when missing; default vault_scale on BENCH_PG_URL)
 *   LOCAL_KMS_KEY       base64 32-byte master key the vault will run with (printed when generated here)
 *   SEED_TOKEN_URL      the integrations' token endpoint (default http://127.0.0.1:9/token, unreachable)
 *
 * Run as `node -r ./test/utils/register-ts.js bench/seed-scale.js` (the npm script does): it uses the vault's
 * own sealing code from the TypeScript sources.
 */
const crypto = require('node:crypto');
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');
const { Client } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const { LocalKms, dataKeyContext, sealWithKey } = require('@vault/crypto');
const { migrateDatabase } = require('@vault/persistence');
const { aad } = require('../libs/core/src/crypto/aad');
const { dbUrl, intEnv, log } = require('./lib/run');

/** Refresh margin the vault uses by default (REFRESH_MARGIN_SECONDS): next_refresh_at = expiry - margin. */
const MARGIN_SECONDS = 300;
/** Refresh tokens the instant token server of bench/ accepts start with this. */
const REFRESH_TOKEN_PREFIX = 'bench-rt-';

const hex = (buf) => `\\\\x${buf.toString('hex')}`;

/**
 * Seeds `rows` connections into `url`; returns what it made: the integrations, the seconds it took, and a
 * sample of servable connection ids (about every `sampleEvery`-th) for the load generators.
 */
async function seedScale(url, opts = {}) {
  const o = {
    rows: 1_000_000,
    tenants: 1000,
    integrations: 10,
    spreadHours: 24,
    needsReauthPercent: 2,
    tokenUrl: 'http://127.0.0.1:9/token',
    sampleEvery: 10,
    ...opts,
  };
  if (!o.masterKey) throw new Error('seedScale: masterKey (LOCAL_KMS_KEY) is required');
  const started = Date.now();
  await migrateDatabase(url);
  const kms = new LocalKms({ masterKey: Buffer.from(o.masterKey, 'base64') });
  const dataKeyId = crypto.randomUUID();
  const dataKey = await kms.generateDataKey(dataKeyContext(dataKeyId));
  const key = dataKey.plaintext;
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const sample = [];
  try {
    await pg.query('INSERT INTO data_keys (id, kms_key_id, wrapped_key) VALUES ($1, $2, $3)', [
      dataKeyId,
      dataKey.kmsKeyId,
      dataKey.wrapped,
    ]);
    const integrations = [];
    for (let i = 0; i < o.integrations; i++) {
      const id = crypto.randomUUID();
      const k = `scale-${i}`;
      await pg.query(
        `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, token_url, client_auth)
         VALUES ($1, $2, 'oauth2', $3, $4, $5, 'client_secret_post')`,
        [id, k, `client-${i}`, sealWithKey(key, dataKeyId, `secret-${i}`, aad.integration(id)), o.tokenUrl],
      );
      integrations.push({ id, key: k });
    }

    const now = Date.now();
    const spreadMs = o.spreadHours * 3600_000;
    function* lines() {
      for (let i = 0; i < o.rows; i++) {
        const id = crypto.randomUUID();
        const integration = integrations[i % integrations.length];
        const expires = new Date(now + 60_000 + Math.floor(Math.random() * spreadMs));
        const reauth = (i * 7919) % 100 < o.needsReauthPercent;
        if (i % o.sampleEvery === 0 && !reauth) sample.push(id);
        const status = reauth ? 'needs_reauth' : 'active';
        const next = reauth ? '\\N' : new Date(expires.getTime() - MARGIN_SECONDS * 1000).toISOString();
        const rt = sealWithKey(
          key,
          dataKeyId,
          `${REFRESH_TOKEN_PREFIX}${i}-${id}`,
          aad.connection(id, 'refresh_token'),
        );
        const at = sealWithKey(key, dataKeyId, `at-${i}-${id}`, aad.connection(id, 'access_token'));
        yield (
          `${id}\t${integration.id}\ttenant-${i % o.tenants}\tuser-${i}\t${status}\t${hex(rt)}\t${hex(at)}\t` +
          `${expires.toISOString()}\t{read,write}\t${next}\n`
        );
      }
    }
    // Batches of lines per chunk: one write per line would cost more than the sealing.
    function* chunks() {
      let buf = [];
      for (const line of lines()) {
        buf.push(line);
        if (buf.length === 1000) {
          yield buf.join('');
          buf = [];
        }
      }
      if (buf.length) yield buf.join('');
    }
    const copy = pg.query(
      copyFrom(
        `COPY connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
           access_token_sealed, access_token_expires_at, scopes, next_refresh_at) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(chunks()), copy);
    await pg.query('ANALYZE connections');
    return { integrations, seconds: (Date.now() - started) / 1000, sample, dataKeyId };
  } finally {
    await pg.end();
  }
}

module.exports = { seedScale };

if (require.main === module) {
  const masterKey = process.env.LOCAL_KMS_KEY || crypto.randomBytes(32).toString('base64');
  const url = process.env.SEED_DATABASE_URL || dbUrl('vault_scale');
  const rows = intEnv('SEED_ROWS', 1_000_000);
  log(`seeding ${rows} sealed connections into ${url.replace(/\/\/[^@]*@/, '//')}`);
  seedScale(url, {
    masterKey,
    rows,
    tenants: intEnv('SEED_TENANTS', 1000),
    integrations: intEnv('SEED_INTEGRATIONS', 10),
    spreadHours: intEnv('SEED_SPREAD_HOURS', 24),
    needsReauthPercent: Number(process.env.SEED_NEEDS_REAUTH_PERCENT ?? 2),
    tokenUrl: process.env.SEED_TOKEN_URL || 'http://127.0.0.1:9/token',
  })
    .then((r) => {
      log(`seeded ${rows} connections in ${r.seconds.toFixed(1)} s (${Math.round(rows / r.seconds)}/s)`);
      if (!process.env.LOCAL_KMS_KEY) log(`LOCAL_KMS_KEY=${masterKey} (run the vault with it to open them)`);
    })
    .catch((err) => {
      console.error(`seed:scale failed: ${err.stack || err}`);
      process.exit(1);
    });
}
