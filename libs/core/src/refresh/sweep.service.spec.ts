import { batchByDueTime } from './sweep.service';

describe('batchByDueTime', () => {
  const at = (ms: number) => new Date(1_800_000_000_000 + ms);

  it('groups connections due within a second, at most `size` per job, in due order', () => {
    const claimed = [
      { id: 'c', dueAt: at(500) },
      { id: 'a', dueAt: at(0) },
      { id: 'b', dueAt: at(200) },
      { id: 'd', dueAt: at(900) },
      { id: 'e', dueAt: at(1_500) },
      { id: 'f', dueAt: at(60_000) },
    ];
    const batches = batchByDueTime(claimed, 3).map((b) => b.map((i) => i.connectionId));
    expect(batches).toEqual([['a', 'b', 'c'], ['d', 'e'], ['f']]);
  });

  it('never spans more than a second inside one job', () => {
    const claimed = Array.from({ length: 50 }, (_, i) => ({ id: `c${i}`, dueAt: at(i * 100) }));
    for (const b of batchByDueTime(claimed, 100)) {
      const first = b[0]?.dueAt ?? 0;
      const last = b[b.length - 1]?.dueAt ?? 0;
      expect(last - first).toBeLessThanOrEqual(1000);
    }
  });
});
