import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApi, type TestApi } from '../utils/api';
import { createIntegration, query } from '../utils/refresh-fixtures';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Code run in the page is given as strings: this project's TypeScript has no DOM library.
// Without the browser: fails under CI (.ci/run installs Debian's chromium), warns and skips on a developer
// machine, like the promtool tests.
const HAVE_BROWSER = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!HAVE_BROWSER) console.warn(`WARNING: ${CHROMIUM} is missing: the /dashboard browser test is skipped`);

/**
 * The /dashboard page in a real Chromium against the real API and PostgreSQL: what a person sees. Seeded:
 * 400 connections of tenants acme and globex, 35 of them broken, 30 with a refresh token dying soon, one
 * integration with rejected credentials, and 281 refresh attempts over the last 23 hours.
 */
(HAVE_BROWSER ? describe : describe.skip)('the /dashboard page in Chromium', () => {
  let api: TestApi;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;
  const keys = { tenant: '', writer: '' };
  const requested: string[] = [];
  let eventsOf = '';

  beforeAll(async () => {
    api = await startTestApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = (await api.app.getUrl()).replace('[::1]', '127.0.0.1');
    for (const [key, provider] of [
      ['google-prod', 'google'],
      ['slack-prod', 'slack'],
      ['crm', 'hubspot'],
    ] as const) {
      await createIntegration(api, { key, provider, client_id: 'c', client_secret: 's' });
    }
    await query(
      api.db.url,
      `UPDATE integrations SET status = 'credentials_rejected', status_reason = 'invalid_client' WHERE key = 'crm'`,
    );
    // n 1..20: acme google needs_reauth; 21..30: acme slack refresh_failing; 31..35: globex slack needs_reauth
    // (token_revoked); 36..400 active, alternating tenants and integrations. 36..65: refresh token dying (and
    // flagged) in ((7n mod 31) × 5 + 2) hours and 30 minutes, an order unlike n's; globex when n % 3 = 0.
    await query(
      api.db.url,
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, status_reason,
         refresh_token_sealed, refresh_failures, failing_since, last_error, refresh_token_expires_at, reauth_due_at)
       SELECT gen_random_uuid(),
         (SELECT id FROM integrations WHERE key = CASE WHEN n <= 20 THEN 'google-prod' WHEN n <= 35 THEN 'slack-prod'
            WHEN n % 2 = 0 THEN 'google-prod' ELSE 'slack-prod' END),
         CASE WHEN n <= 30 THEN 'acme' WHEN n <= 35 THEN 'globex' WHEN n % 3 = 0 THEN 'globex' ELSE 'acme' END,
         'user-' || n,
         CASE WHEN n <= 20 OR n BETWEEN 31 AND 35 THEN 'needs_reauth' WHEN n <= 30 THEN 'refresh_failing' ELSE 'active' END,
         CASE WHEN n <= 20 THEN 'invalid_grant' WHEN n <= 30 THEN 'transient' WHEN n <= 35 THEN 'token_revoked' END,
         '\\x00'::bytea, CASE WHEN n <= 35 THEN 1 + n % 5 ELSE 0 END,
         now() - make_interval(mins => n * 7),
         CASE WHEN n <= 35 THEN jsonb_build_object(
           'class', CASE WHEN n BETWEEN 21 AND 30 THEN 'transient' ELSE 'reauth_required' END,
           'code', CASE WHEN n <= 20 THEN 'invalid_grant' WHEN n <= 30 THEN 'http_503' ELSE 'token_revoked' END,
           'http_status', CASE WHEN n BETWEEN 21 AND 30 THEN 503 ELSE 400 END, 'at', now()) END,
         due, due
       FROM generate_series(1, 400) n,
         LATERAL (SELECT CASE WHEN n BETWEEN 36 AND 65
           THEN now() + make_interval(hours => (7 * n) % 31 * 5 + 2, mins => 30) END AS due) d`,
    );
    const [first] = await query<{ id: string }>(
      api.db.url,
      `SELECT id FROM connections WHERE external_id = 'user-1'`,
    );
    eventsOf = first?.id ?? '';
    await query(
      api.db.url,
      `INSERT INTO connection_events (connection_id, tenant_id, type, detail)
       VALUES ($1, 'acme', 'refresh_failed', '{"class":"transient"}'), ($1, 'acme', 'needs_reauth', '{"reason":"invalid_grant"}')`,
      [eventsOf],
    );
    // Each of the last 23 whole hours and the current one: 10 success and 2 transient; 5 reauth_required
    // 3 hours back. 23 × 12 + 5 = 281 attempts.
    await query(
      api.db.url,
      `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint,
         started_at, finished_at, outcome)
       SELECT gen_random_uuid(), $1, 'scheduled', 1, 'fp', t, t, o
       FROM generate_series(0, 22) h,
         LATERAL (SELECT date_trunc('hour', now()) - make_interval(hours => h) AS t) x,
         LATERAL (SELECT unnest(array_fill('success'::text, ARRAY[10]) || array_fill('transient'::text, ARRAY[2])
                  || CASE WHEN h = 3 THEN array_fill('reauth_required'::text, ARRAY[5]) ELSE '{}'::text[] END) AS o) y`,
      [eventsOf],
    );
    const tenant = await api.call('POST', '/v1/api-keys', {
      name: 'globex-dash',
      scopes: ['connections:read'],
      tenant_id: 'globex',
    });
    keys.tenant = tenant.body.key as string;
    const writer = await api.call('POST', '/v1/api-keys', { name: 'tokens-only', scopes: ['tokens:read'] });
    keys.writer = writer.body.key as string;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => requested.push(r.url()));
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  const login = async (key: string) => {
    await page.fill('#api-key', key);
    await page.click('#login button[type=submit]');
  };
  const loaded = async () => {
    await page.waitForSelector('body[data-loaded]');
    await page.evaluate('delete document.body.dataset.loaded');
  };
  const cells = (table: string, column: number) =>
    page.$$eval(`#${table} tbody tr`, (rows, c) => rows.map((r) => r.children[c]?.textContent ?? ''), column);
  /** Waits (polling from here: the page's CSP refuses the eval a string predicate would need) for n rows. */
  const rowsOf = async (table: string, n: number) => {
    const deadline = Date.now() + 10_000;
    while ((await page.locator(`#${table} tbody tr`).count()) !== n) {
      if (Date.now() > deadline) throw new Error(`the ${table} table never had ${n} rows`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const brokenRows = (n: number) => rowsOf('broken', n);
  /** The connections flagged reauth-due in the database, soonest death first: their short ids and tenants. */
  const dueInDatabase = async (where = 'true') =>
    (
      await query<{ id: string; tenant_id: string }>(
        api.db.url,
        `SELECT c.id, c.tenant_id FROM connections c JOIN integrations i ON i.id = c.integration_id
         WHERE c.reauth_due_at IS NOT NULL AND ${where} ORDER BY c.reauth_due_at, c.id`,
      )
    ).map((r) => ({ id: r.id.slice(0, 8), tenant: r.tenant_id }));
  const dueCount = () => page.textContent('#reauth-due-count');
  const total = (status: string) => page.textContent(`#totals [data-status=${status}] .n`);

  it('refuses a wrong key and a key without connections:read, keeping neither', async () => {
    const res = await page.goto(`${baseUrl}/dashboard`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.isVisible('#login')).toBe(true);
    await login('vk_not-a-key');
    await page.waitForSelector('#login-error:has-text("refused")');
    expect(await page.isVisible('#dashboard')).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await login(keys.writer);
    await page.waitForSelector('#login-error:has-text("lacks connections:read")');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('shows counts, broken connections by reason, rejected integrations and the outcome chart', async () => {
    await login(api.adminKey);
    await loaded();
    expect([await total('active'), await total('needs_reauth'), await total('refresh_failing')]).toEqual([
      '365',
      '25',
      '10',
    ]);
    expect(await cells('groups', 0)).toEqual(['google-prod', 'slack-prod', 'slack-prod']);
    expect(await cells('groups', 3)).toEqual(['invalid_grant', 'transient', 'token_revoked']);
    expect(await cells('groups', 4)).toEqual(['20', '10', '5']);
    expect(await cells('rejected', 0)).toEqual(['crm']);
    expect(await cells('rejected', 2)).toEqual(['invalid_client']);

    const bars = await page.$$eval('#chart svg rect', (rs) =>
      rs.map((r) => ({ outcome: r.getAttribute('data-outcome'), n: Number(r.getAttribute('data-count')) })),
    );
    expect(bars.reduce((n, b) => n + b.n, 0)).toBe(281);
    expect(bars.filter((b) => b.outcome === 'reauth_required')).toEqual([
      { outcome: 'reauth_required', n: 5 },
    ]);
    expect(
      await page.$$eval('#chart rect', (rs) => rs.every((r) => Number(r.getAttribute('height')) > 0)),
    ).toBe(true);

    // 35 broken, 25 a page, most recent first failure first.
    expect(await cells('broken', 1)).toHaveLength(25);
    expect((await cells('broken', 6))[0]).not.toBe('');
    expect(await cells('broken', 7)).toContain('2');
    expect((await cells('broken', 8))[0]).toBe('reauth_required invalid_grant');
    expect(await page.isVisible('#login')).toBe(false);
    mkdirSync(join(ROOT, '.local', 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, '.local', 'test-artifacts', 'dashboard.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png') });
    await page.click('#next-page');
    await brokenRows(10);
    expect(await page.isDisabled('#next-page')).toBe(true);
    await page.click('#first-page');
    await brokenRows(25);
  });

  it('lists the connections whose refresh token dies soon, soonest first, 25 a page, with their count', async () => {
    const due = await dueInDatabase();
    expect(due).toHaveLength(30);
    expect(await dueCount()).toBe('30');
    expect(await cells('reauth-due', 0)).toEqual(due.slice(0, 25).map((d) => d.id));
    expect(await cells('reauth-due', 1)).toEqual(due.slice(0, 25).map((d) => d.tenant));
    expect(new Set(await cells('reauth-due', 4))).toEqual(new Set(['active']));
    // Soonest first, shown as UTC times and how long is left: 2 h 30 min for the first, then 7 h 30 min.
    const times = (await cells('reauth-due', 5)).map((t) => Date.parse(t.replace(' UTC', 'Z')));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await cells('reauth-due', 6)).slice(0, 3)).toEqual(['2 h', '7 h', '12 h']);
    expect(await page.isDisabled('#reauth-first-page')).toBe(true);
    await page.click('#reauth-next-page');
    await rowsOf('reauth-due', 5);
    expect(await cells('reauth-due', 0)).toEqual(due.slice(25).map((d) => d.id));
    expect(await page.isDisabled('#reauth-next-page')).toBe(true);
    // The broken table kept its page.
    expect(await cells('broken', 1)).toHaveLength(25);
    await page.click('#reauth-first-page');
    await rowsOf('reauth-due', 25);
    expect((await cells('reauth-due', 0))[0]).toBe(due[0]?.id);
    // The section alone, for the README (the page's screenshot shows its top).
    const section = page.locator('section:has(#reauth-due)');
    await section.screenshot({ path: join(ROOT, '.local', 'test-artifacts', 'dashboard-reauth-due.png') });
    if (process.env.UPDATE_SCREENSHOT)
      await section.screenshot({ path: join(ROOT, 'docs', 'dashboard-reauth-due.png') });
  });

  it('applies a filter, and links each broken connection to its events', async () => {
    await page.selectOption('#filters select[name=integration]', 'slack-prod');
    await page.selectOption('#filters select[name=status]', 'needs_reauth');
    await page.click('#filters button[type=submit]');
    await loaded();
    expect(await cells('broken', 2)).toEqual(Array(5).fill('slack-prod'));
    expect(await cells('broken', 5)).toEqual(Array(5).fill('token_revoked'));
    expect([await total('needs_reauth'), await total('refresh_failing')]).toEqual(['5', '10']);
    // The status filter is the broken tables'; the reauth-due list takes integration, provider and tenant.
    const slackDue = await dueInDatabase(`i.key = 'slack-prod'`);
    expect(slackDue).toHaveLength(15);
    expect(await dueCount()).toBe('15');
    expect(await cells('reauth-due', 0)).toEqual(slackDue.map((d) => d.id));
    expect(await cells('reauth-due', 2)).toEqual(Array(15).fill('slack-prod'));
    expect(await page.isDisabled('#reauth-next-page')).toBe(true);

    await page.selectOption('#filters select[name=integration]', 'google-prod');
    await page.click('#filters button[type=submit]');
    await loaded();
    await page.click(`a[data-events="${eventsOf}"]`);
    await page.waitForSelector('#events-list li');
    const events = await page.$$eval('#events-list li', (li) => li.map((l) => l.textContent ?? ''));
    expect(events.map((e) => e.split(' ')[3])).toEqual(['needs_reauth', 'refresh_failed']);
    expect(page.url()).toBe(`${baseUrl}/dashboard#events/${eventsOf}`);
  });

  it('shows a tenant key only its tenant', async () => {
    await page.click('#logout');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.goto(`${baseUrl}/dashboard`);
    await login(keys.tenant);
    await loaded();
    expect(await cells('broken', 1)).toEqual(Array(5).fill('globex'));
    expect([await total('needs_reauth'), await total('refresh_failing')]).toEqual(['5', '0']);
    const active = Number(await total('active'));
    const [row] = await query<{ n: number }>(
      api.db.url,
      `SELECT count(*)::int AS n FROM connections WHERE tenant_id = 'globex' AND status = 'active'`,
    );
    expect(active).toBe(row?.n);
    const globexDue = await dueInDatabase(`c.tenant_id = 'globex'`);
    expect(globexDue).toHaveLength(10);
    expect(await dueCount()).toBe('10');
    expect(await cells('reauth-due', 0)).toEqual(globexDue.map((d) => d.id));
    expect(await cells('reauth-due', 1)).toEqual(Array(10).fill('globex'));
    // The other tenant's rows are not there even when asked for by name.
    await page.fill('#filters input[name=tenant_id]', 'acme');
    await page.click('#filters button[type=submit]');
    await loaded();
    expect(await cells('broken', 0)).toEqual(['none']);
    expect(await cells('reauth-due', 0)).toEqual(['none']);
    expect(await dueCount()).toBe('0');
  });

  it('keeps the key out of every URL and out of persistent storage', async () => {
    const secrets = [api.adminKey, keys.tenant];
    expect(requested.length).toBeGreaterThan(10);
    for (const url of requested) for (const k of secrets) expect(url).not.toContain(k);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([keys.tenant]);
  });
});
