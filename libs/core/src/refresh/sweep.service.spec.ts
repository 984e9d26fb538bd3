import { batchByStartTime } from './sweep.service';

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
