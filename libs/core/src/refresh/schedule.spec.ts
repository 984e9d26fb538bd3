import { earlyWindowMs, nextRefreshAt } from './schedule';

describe('nextRefreshAt', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('is expiry minus margin when the jitter is zero', () => {
    const exp = new Date(now.getTime() + 3600_000);
    expect(nextRefreshAt(exp, 300, now, () => 0).toISOString()).toBe('2026-01-01T00:55:00.000Z');
  });

  it('subtracts at most a tenth of the margin, capped at 60 s, as jitter', () => {
    const exp = new Date(now.getTime() + 3600_000);
    expect(nextRefreshAt(exp, 300, now, () => 0.999999).getTime()).toBeCloseTo(exp.getTime() - 330_000, -1);
    expect(nextRefreshAt(exp, 1200, now, () => 0.999999).getTime()).toBeCloseTo(
      exp.getTime() - 1_260_000,
      -1,
    );
  });

  it('is now when the token is already inside the margin or has no expiry', () => {
    expect(nextRefreshAt(new Date(now.getTime() + 10_000), 300, now, () => 0.5)).toEqual(now);
    expect(nextRefreshAt(null, 300, now)).toEqual(now);
  });
});

describe('earlyWindowMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('is the lookahead for long-lived tokens', () => {
    expect(earlyWindowMs(new Date(now + 3600_000), 30, now)).toBe(30_000);
  });

  it('is a tenth of the remaining life for short-lived tokens', () => {
    expect(earlyWindowMs(new Date(now + 60_000), 30, now)).toBe(6_000);
    expect(earlyWindowMs(new Date(now + 20_000), 30, now)).toBe(2_000);
  });

  it('is zero for expired tokens or unknown expiry', () => {
    expect(earlyWindowMs(new Date(now - 1), 30, now)).toBe(0);
    expect(earlyWindowMs(null, 30, now)).toBe(0);
  });
});
