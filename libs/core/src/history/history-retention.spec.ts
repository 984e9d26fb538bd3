import { HistoryRetention } from './history-retention';

describe('HistoryRetention', () => {
  it('cuts off HISTORY_RETENTION_DAYS whole days before the given time, and prunes before that', async () => {
    const cutoffs: Date[] = [];
    const events = { prune: (before: Date) => (cutoffs.push(before), Promise.resolve(3)) };
    const retention = new HistoryRetention(events as never, { HISTORY_RETENTION_DAYS: 30 });
    const now = new Date('2026-11-30T12:00:00.000Z');

    expect(retention.cutoff(now).toISOString()).toBe('2026-10-31T12:00:00.000Z');
    expect(await retention.prune(now)).toBe(3);
    expect(cutoffs.map((d) => d.toISOString())).toEqual(['2026-10-31T12:00:00.000Z']);
  });
});
