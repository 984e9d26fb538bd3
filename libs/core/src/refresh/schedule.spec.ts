import { nextRefreshAt } from './schedule';

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
