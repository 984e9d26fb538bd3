import { randomBytes } from 'node:crypto';
import { MIGRATIONS } from '@vault/persistence';
import { Client } from 'pg';
import { PG_ADMIN_URL, testRedisPrefix } from '../utils/database';
import { runVaultCli } from '../utils/processes';
import { createIntegration, query, startInProcessApi } from '../utils/refresh-fixtures';

/** The operator CLI run as a process, as an operator runs it, against a database of its own. */
describe('operator CLI (migrate, create-api-key, rewrap-data-keys, list-data-keys, retire-data-key)', () => {
  const name = `vault_test_cli_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const keyA = randomBytes(32).toString('base64');
  const keyB = randomBytes(32).toString('base64');
  const env = {
    DATABASE_URL: url.toString(),
    REDIS_PREFIX: testRedisPrefix(),
    LOCAL_KMS_KEY: keyA,
  };

  afterAll(async () => {
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('migrate creates the missing database and runs every migration once; a second run has nothing to do', async () => {
    const first = await runVaultCli(['migrate'], env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain(`ran migrations: ${MIGRATIONS.map((m) => m.name).join(', ')}`);
    const applied = await query<{ name: string }>(env.DATABASE_URL, 'SELECT name FROM schema_migrations');
    expect(applied.map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());

    const second = await runVaultCli(['migrate'], env);
    expect(second).toMatchObject({ code: 0, stdout: 'database is up to date\n' });
  });

  it('create-api-key prints a key once (JSON on stdout) that the API then accepts with its scopes', async () => {
    const run = await runVaultCli(['create-api-key', '--name', 'ops', '--scopes', 'admin'], env);
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout) as { id: string; key: string; name: string; scopes: string[] };
    expect(created).toMatchObject({ name: 'ops', scopes: ['admin'], tenant_id: null });
    expect(run.stderr).toContain('shown once');
    expect(run.stderr).not.toContain(created.key);

    const api = await startInProcessApi(env);
    try {
      const keys = await api.call('GET', '/v1/api-keys', undefined, created.key);
      expect(keys.status).toBe(200);
      expect(JSON.stringify(keys.body)).not.toContain(created.key);
      expect(keys.body.data.map((k: { id: string }) => k.id)).toContain(created.id);
    } finally {
      await api.close();
    }
  });

  it('create-api-key refuses an unknown scope or a missing name (exit 2, usage) and creates nothing', async () => {
    const before = await query<{ n: number }>(env.DATABASE_URL, 'SELECT count(*)::int AS n FROM api_keys');

    const badScope = await runVaultCli(
      ['create-api-key', '--name', 'x', '--scopes', 'tokens:read,root'],
      env,
    );
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('unknown scope(s) root');
    expect(badScope.stdout).toBe('');
    const noScope = await runVaultCli(['create-api-key', '--name', 'x'], env);
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toContain('scopes');
    const noName = await runVaultCli(['create-api-key', '--scopes', 'admin'], env);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('usage:');
    const unknownOption = await runVaultCli(['create-api-key', '--name', 'x', '--scope', 'admin'], env);
    expect(unknownOption.code).toBe(2);
    expect((await runVaultCli(['frobnicate'], env)).code).toBe(2);

    const after = await query<{ n: number }>(env.DATABASE_URL, 'SELECT count(*)::int AS n FROM api_keys');
    expect(after).toEqual(before);
  });

  it('rewrap-data-keys moves every data key to the new master key: a process that knows only the new key reads the secrets', async () => {
    const old = await startInProcessApi(env);
    let connectionId: string;
    try {
      await createIntegration(old, {
        key: 'cli-rewrap',
        provider: 'oauth2',
        client_id: 'c',
        client_secret: 's',
        token_url: 'http://127.0.0.1:9/token',
      });
      const res = await old.call('POST', '/v1/connections', {
        integration: 'cli-rewrap',
        tenant_id: 't',
        refresh_token: 'rt-secret',
        access_token: 'at-secret',
        expires_in: 3600,
      });
      expect(res.status).toBe(201);
      connectionId = res.body.id as string;
    } finally {
      await old.close();
    }
    const wrappedBefore = await query<{ id: string; wrapped: Buffer }>(
      env.DATABASE_URL,
      'SELECT id, wrapped_key AS wrapped FROM data_keys ORDER BY id',
    );
    expect(wrappedBefore.length).toBeGreaterThan(0);

    const run = await runVaultCli(['rewrap-data-keys'], {
      ...env,
      LOCAL_KMS_KEY: keyB,
      LOCAL_KMS_PREVIOUS_KEYS: keyA,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`re-wrapped ${wrappedBefore.length} data key(s)`);
    const wrappedAfter = await query<{ id: string; wrapped: Buffer }>(
      env.DATABASE_URL,
      'SELECT id, wrapped_key AS wrapped FROM data_keys ORDER BY id',
    );
    expect(wrappedAfter.map((k) => k.id)).toEqual(wrappedBefore.map((k) => k.id));
    wrappedAfter.forEach((k, i) =>
      expect(k.wrapped.equals(wrappedBefore[i]?.wrapped ?? Buffer.alloc(0))).toBe(false),
    );

    const fresh = await startInProcessApi({ ...env, LOCAL_KMS_KEY: keyB });
    try {
      const token = await fresh.call('GET', `/v1/connections/${connectionId}/token`);
      expect(token.status).toBe(200);
      expect(token.body.access_token).toBe('at-secret');
    } finally {
      await fresh.close();
    }
  });

  it('list-data-keys shows each key and its sealed values; retire-data-key retires it and queues the job', async () => {
    const rotated = { ...env, LOCAL_KMS_KEY: keyB };
    const listed = await runVaultCli(['list-data-keys'], rotated);
    expect(listed.code).toBe(0);
    const keys = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; sealed_values: number; retired_at: string | null });
    const used = keys.find((k) => k.sealed_values > 0);
    expect(used).toMatchObject({ retired_at: null });

    const run = await runVaultCli(['retire-data-key', used?.id ?? ''], rotated);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      kind: 'retire_data_key',
      state: 'queued',
      data_key_id: used?.id,
      remaining: used?.sealed_values,
    });
    const [row] = await query<{ retired: boolean }>(
      env.DATABASE_URL,
      'SELECT retired_at IS NOT NULL AS retired FROM data_keys WHERE id = $1',
      [used?.id],
    );
    expect(row?.retired).toBe(true);

    const bad = await runVaultCli(['retire-data-key', 'not-a-uuid'], rotated);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('id: must be a UUID');
  });
});
