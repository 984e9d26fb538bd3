import type { AuditEntry } from '@vault/persistence';
import { AuditTrail } from './audit-trail';

/** An in-memory stand-in for the repository that can be told to fail. */
function store() {
  const rows: AuditEntry[] = [];
  const calls: number[] = [];
  let failing = false;
  return {
    rows,
    calls,
    fail: (on: boolean) => (failing = on),
    insertMany: (entries: readonly AuditEntry[]) => {
      calls.push(entries.length);
      if (failing) return Promise.reject(new Error('database down'));
      rows.push(...entries);
      return Promise.resolve();
    },
  };
}

function trail(maxEntries = 100) {
  const repo = store();
  const dropped: number[] = [];
  const failures: number[] = [];
  const t = new AuditTrail(
    repo,
    { dropped: (n) => dropped.push(n), flushFailed: (_err, pending) => failures.push(pending) },
    { maxEntries, flushIntervalMs: 3600_000 },
  );
  return { t, repo, dropped, failures };
}

describe('AuditTrail', () => {
  it('aggregates reads per API key and connection and writes one row per pair in one statement', async () => {
    const { t, repo } = trail();
    t.tokenRead('k1', 'c1', 1000);
    t.tokenRead('k1', 'c1', 2000);
    t.tokenRead('k1', 'c1', 3000);
    t.tokenRead('k1', 'c2', 1500);
    t.tokenRead('k2', 'c1', 2500);
    t.action('integration.updated', 'k1', { target: 'slack-prod' });
    expect(t.pending).toBe(4);
    expect(repo.calls).toEqual([]);

    await t.flush();
    expect(repo.calls).toEqual([4]);
    const reads = repo.rows
      .filter((r) => r.action === 'token.read')
      .map((r) => [r.apiKeyId, r.connectionId, r.count, r.firstAt.getTime(), r.lastAt.getTime()]);
    expect(reads).toEqual([
      ['k1', 'c1', 3, 1000, 3000],
      ['k1', 'c2', 1, 1500, 1500],
      ['k2', 'c1', 1, 2500, 2500],
    ]);
    expect(repo.rows[0]).toMatchObject({
      action: 'integration.updated',
      apiKeyId: 'k1',
      target: 'slack-prod',
    });
    expect(t.pending).toBe(0);
    await t.flush();
    expect(repo.calls).toEqual([4]); // nothing pending: no statement
  });

  it('drops and counts what does not fit the bounded buffer; a known pair still counts', async () => {
    const { t, repo, dropped } = trail(2);
    t.tokenRead('k', 'c1');
    t.tokenRead('k', 'c2');
    t.tokenRead('k', 'c3');
    t.action('api_key.created', 'k', { target: 'x' });
    t.tokenRead('k', 'c1');
    expect(dropped).toEqual([1, 1]);
    await t.flush();
    expect(repo.rows.map((r) => [r.connectionId, r.count])).toEqual([
      ['c1', 2],
      ['c2', 1],
    ]);
  });

  it('puts a failed batch back, merged with reads recorded meanwhile, and writes it on the next flush', async () => {
    const { t, repo, failures } = trail();
    t.tokenRead('k', 'c1', 1000);
    t.action('connection.deleted', 'k', { connectionId: 'c9' });
    repo.fail(true);
    await expect(t.flush()).rejects.toThrow('database down');
    expect(failures).toEqual([2]);
    t.tokenRead('k', 'c1', 5000);
    repo.fail(false);
    await t.flush();
    expect(repo.rows.map((r) => [r.action, r.connectionId, r.count])).toEqual([
      ['connection.deleted', 'c9', 1],
      ['token.read', 'c1', 2],
    ]);
    const read = repo.rows[1];
    expect([read?.firstAt.getTime(), read?.lastAt.getTime()]).toEqual([1000, 5000]);
  });

  it('close() writes what is left; if the database stays down it counts the rows it had to drop', async () => {
    const ok = trail();
    ok.t.tokenRead('k', 'c1');
    await ok.t.close();
    expect(ok.repo.rows).toHaveLength(1);

    const down = trail();
    down.t.tokenRead('k', 'c1');
    down.t.tokenRead('k', 'c2');
    down.repo.fail(true);
    await down.t.close(2, 1);
    expect(down.repo.calls).toEqual([2, 2]);
    expect(down.dropped).toEqual([2]);
    expect(down.t.pending).toBe(0);
  });

  it('never runs two flushes at once: a flush during a flush waits and then writes what came in', async () => {
    const { t, repo } = trail();
    t.tokenRead('k', 'c1');
    const first = t.flush();
    t.tokenRead('k', 'c2');
    const second = t.flush();
    await Promise.all([first, second]);
    expect(repo.calls).toEqual([1, 1]);
  });
});
