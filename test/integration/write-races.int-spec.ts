import { startTestApi, type TestApi } from '../utils/api';
import { createIntegration, query } from '../utils/refresh-fixtures';

/**
 * Writes that lose a race against another writer answer with the domain's error, not 500. The other writer
 * is played by a trigger in the test's own database, so the race happens at the exact point it names.
 */
describe('write races answered by the domain', () => {
  let api: TestApi;

  const integration = (key: string) => ({
    key,
    provider: 'oauth2',
    client_id: 'c',
    client_secret: 's',
    token_url: 'http://127.0.0.1:9/token',
  });

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 400 validation_failed when the integration is deleted while a grant is imported', async () => {
    await createIntegration(api, integration('vanishing'));
    await query(
      api.db.url,
      `CREATE FUNCTION delete_integration() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM integrations WHERE id = NEW.integration_id; RETURN NEW; END $$;
       CREATE TRIGGER race BEFORE INSERT ON connections FOR EACH ROW EXECUTE FUNCTION delete_integration()`,
    );
    try {
      const res = await api.call('POST', '/v1/connections', {
        integration: 'vanishing',
        tenant_id: 't',
        refresh_token: 'rt',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', field: 'integration' });
    } finally {
      await query(api.db.url, `DROP TRIGGER race ON connections; DROP FUNCTION delete_integration()`);
    }
    // The import's transaction rolled back: the delete done inside it too, and no connection or event exists.
    expect(await query(api.db.url, `SELECT key FROM integrations WHERE key = 'vanishing'`)).toEqual([
      { key: 'vanishing' },
    ]);
    expect(await query(api.db.url, `SELECT id FROM connections`)).toEqual([]);
    expect(await query(api.db.url, `SELECT id FROM connection_events`)).toEqual([]);
  });

  it('answers 409 integration_in_use when a connection is imported while the integration is deleted', async () => {
    await createIntegration(api, integration('busy'));
    await query(
      api.db.url,
      `CREATE FUNCTION import_connection() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO connections (id, integration_id, tenant_id, status, refresh_token_sealed)
         VALUES (gen_random_uuid(), OLD.id, 't', 'active', '\\x00');
         RETURN OLD;
       END $$;
       CREATE TRIGGER race BEFORE DELETE ON integrations FOR EACH ROW EXECUTE FUNCTION import_connection()`,
    );
    try {
      const res = await api.call('DELETE', '/v1/integrations/busy');
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'integration_in_use' });
    } finally {
      await query(api.db.url, `DROP TRIGGER race ON integrations; DROP FUNCTION import_connection()`);
    }
    expect((await api.call('GET', '/v1/integrations/busy')).status).toBe(200);
  });

  it('answers 409 integration_exists when another writer creates the same key first', async () => {
    await query(
      api.db.url,
      `CREATE FUNCTION insert_same_key() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF pg_trigger_depth() = 1 THEN
           INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, client_auth)
           VALUES (gen_random_uuid(), NEW.key, 'oauth2', 'other', '\\x00', 'client_secret_post');
         END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER race BEFORE INSERT ON integrations FOR EACH ROW EXECUTE FUNCTION insert_same_key()`,
    );
    try {
      const res = await api.call('POST', '/v1/integrations', integration('contested'));
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'integration_exists', key: 'contested' });
    } finally {
      await query(api.db.url, `DROP TRIGGER race ON integrations; DROP FUNCTION insert_same_key()`);
    }
  });
});
