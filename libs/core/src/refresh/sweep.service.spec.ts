import type { RefreshScheduleRepository } from '@vault/persistence';
import { loadConfig } from '../config/vault-config';
import { MetricsService } from '../metrics/metrics.service';
import { SweepService, batchByStartTime } from './sweep.service';

describe('batchByStartTime', () => {
  const at = (ms: number) => new Date(1_800_000_000_000 + ms);
  const c = (id: string, start: number) => ({ id, dueAt: at(start + 30_000), startAt: at(start) });

  it('groups connections that may start within a second, at most `size` per job, in start order', () => {
    const batches = batchByStartTime(
      [c('c', 500), c('a', 0), c('b', 200), c('d', 900), c('e', 1_500), c('f', 60_000)],
      3,
    );
    expect(batches.map((b) => b.items.map((i) => i.connectionId))).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
      ['f'],
    ]);
    expect(batches.map((b) => b.startAt - at(0).getTime())).toEqual([500, 1_500, 60_000]);
    expect(batches[0]?.items[0]?.dueAt).toBe(at(30_000).getTime());
  });

  it('never spans more than a second inside one job', () => {
    const batches = batchByStartTime(
      Array.from({ length: 50 }, (_, i) => c(`c${i}`, i * 100)),
      100,
    );
    for (const b of batches) {
      const starts = b.items.map((i) => i.dueAt - 30_000);
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThanOrEqual(1000);
    }
  });
});

describe('SweepService and the last-sweep gauge', () => {
  const config = loadConfig({ NODE_ENV: 'test' });
  const gauge = async (m: MetricsService) => (await m.sweepLastSuccess.get()).values[0]?.value;
  const sinkOf = () => ({ addBulk: () => Promise.resolve() });

  it('sets vault_sweep_last_success_timestamp_seconds when a sweep completes', async () => {
    const metrics = new MetricsService('vault-worker');
    const repo = { claimDue: () => Promise.resolve([]), releaseClaim: () => Promise.resolve() };
    expect(await gauge(metrics)).toBe(0);
    const before = Date.now() / 1000;
    await new SweepService(repo as unknown as RefreshScheduleRepository, sinkOf(), config, metrics).sweep();
    expect(await gauge(metrics)).toBeGreaterThanOrEqual(Math.floor(before));
  });

  it('leaves it alone when the sweep fails or is skipped because one is still running', async () => {
    const metrics = new MetricsService('vault-worker');
    let release: (rows: never[]) => void = () => undefined;
    const hanging = new Promise<never[]>((resolve) => (release = resolve));
    const failing = { claimDue: () => Promise.reject(new Error('database down')), releaseClaim: jest.fn() };
    await expect(
      new SweepService(failing as unknown as RefreshScheduleRepository, sinkOf(), config, metrics).sweep(),
    ).rejects.toThrow('database down');
    expect(await gauge(metrics)).toBe(0);

    const stuck = { claimDue: () => hanging, releaseClaim: jest.fn() };
    const sweeper = new SweepService(
      stuck as unknown as RefreshScheduleRepository,
      sinkOf(),
      config,
      metrics,
    );
    const first = sweeper.sweep();
    expect(await sweeper.sweep()).toBe(0);
    expect(await gauge(metrics)).toBe(0);
    release([]);
    await first;
    expect(await gauge(metrics)).toBeGreaterThan(0);
  });
});

describe('SweepService rounds resume where the last one ended', () => {
  const config = loadConfig({ NODE_ENV: 'test', SWEEP_BATCH_SIZE: '2' });
  const due = (s: number) => new Date(1_800_000_000_000 + s * 1000);

  /** A repository with `backlog` due rows (due 1 s apart) that records the lower bound of each claim. */
  function repoWith(backlog: number) {
    const froms: (number | null)[] = [];
    let next = 0;
    const repo = {
      claimDue: (_h: Date, _l: Date, limit: number, from: Date | null) => {
        froms.push(from === null ? null : (from.getTime() - due(0).getTime()) / 1000);
        const rows = [];
        // Out of due order on purpose: the bound is the latest due time claimed, not the last row returned.
        for (; rows.length < limit && next < backlog; next++) {
          rows.unshift({ id: `c${next}`, dueAt: due(next), expiresAt: null });
        }
        return Promise.resolve(rows);
      },
      releaseClaim: jest.fn(),
    };
    return { repo: repo as unknown as RefreshScheduleRepository, froms };
  }
  const sink = { addBulk: () => Promise.resolve() };

  it('bounds each round by the latest due time claimed before it; the next sweep starts from the earliest', async () => {
    const { repo, froms } = repoWith(5);
    const sweeper = new SweepService(repo, sink, config);
    expect(await sweeper.sweep()).toBe(5);
    expect(froms).toEqual([null, 1, 3]);
    expect(await sweeper.sweep()).toBe(0);
    expect(froms).toEqual([null, 1, 3, null]);
  });

  it('lets the next sweep resume where one that ran out of rounds stopped, once', async () => {
    const { repo, froms } = repoWith(9);
    const sweeper = new SweepService(repo, sink, config);
    expect(await sweeper.sweep(2)).toBe(4);
    expect(await sweeper.sweep(2)).toBe(4);
    expect(await sweeper.sweep(2)).toBe(1);
    expect(await sweeper.sweep(2)).toBe(0);
    expect(froms).toEqual([null, 1, 3, 5, 7, null]);
  });

  it('starts from the earliest due time after a sweep whose enqueue failed (its claims were released)', async () => {
    const { repo, froms } = repoWith(9);
    let fail = true;
    const flaky = {
      addBulk: () => (fail ? Promise.reject(new Error('redis down')) : Promise.resolve()),
    };
    const sweeper = new SweepService(repo, flaky, config);
    await expect(sweeper.sweep(1)).rejects.toThrow('redis down');
    fail = false;
    await sweeper.sweep(1);
    expect(froms).toEqual([null, null]);
  });
});
