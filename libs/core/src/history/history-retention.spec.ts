import { HistoryRetention } from './history-retention';

describe('HistoryRetention', () => {
  it('cuts off HISTORY_RETENTION_DAYS whole days before the given time, and prunes before that', async () => {
    const cutoffs: Date[] = [];
    const events = { prune: (before: Date) => (cutoffs.push(before), Promise.resolve(3)) };
    const retention = new HistoryRetention(events as never, {
      HISTORY_RETENTION_DAYS: 30,
      AUDIT_RETENTION_DAYS: 90,
    });
    const now = new Date('2026-11-30T12:00:00.000Z');

    expect(retention.cutoff(now).toISOString()).toBe('2026-10-31T12:00:00.000Z');
    expect(await retention.prune(now)).toBe(3);
    expect(cutoffs.map((d) => d.toISOString())).toEqual(['2026-10-31T12:00:00.000Z']);
  });

  it('prunes the audit trail AUDIT_RETENTION_DAYS back, and counts both', async () => {
    const cutoffs: string[] = [];
    const events = {
      prune: (before: Date) => (cutoffs.push(`events ${before.toISOString()}`), Promise.resolve(1)),
    };
    const audit = {
      prune: (before: Date) => (cutoffs.push(`audit ${before.toISOString()}`), Promise.resolve(2)),
    };
    const retention = new HistoryRetention(
      events as never,
      { HISTORY_RETENTION_DAYS: 30, AUDIT_RETENTION_DAYS: 90 },
      audit,
    );
    expect(await retention.prune(new Date('2026-11-30T12:00:00.000Z'))).toBe(3);
    expect(cutoffs).toEqual(['events 2026-10-31T12:00:00.000Z', 'audit 2026-09-01T12:00:00.000Z']);
  });
});
