import { afterWaiting, lockTtlMs, ON_DEMAND_RETRY_MS, plan, rateLimitedHold } from './refresh-policy';
import { rowOf, T0, unitConfig as config } from './testing/fakes';

const at = (offsetMs: number) => new Date(T0 + offsetMs);

describe('refresh policy: whether to call the provider', () => {
  it.each(['needs_reauth', 'revoked'] as const)('a %s connection is never refreshed', (status) => {
    for (const trigger of ['on_demand', 'scheduled', 'forced'] as const) {
      const d = plan(rowOf({ status }), trigger, 0, config, T0);
      expect(d).toEqual({ kind: 'done', report: expect.objectContaining({ outcome: 'reauth_required' }) });
    }
  });

  it('a read is answered without a call while the token is valid for min_ttl, and calls once it is not', () => {
    const row = rowOf({ accessTokenExpiresAt: at(120_000) });
    expect(plan(row, 'on_demand', 60, config, T0)).toMatchObject({
      kind: 'done',
      report: { outcome: 'success', calledProvider: false },
    });
    expect(plan(row, 'on_demand', 121, config, T0)).toMatchObject({ kind: 'call' });
    expect(plan(row, 'on_demand', 60, config, T0 + 61_000)).toMatchObject({ kind: 'call' });
  });

  it('a forced refresh calls even when the token is fresh', () => {
    expect(plan(rowOf({ accessTokenExpiresAt: at(3_600_000) }), 'forced', 0, config, T0)).toMatchObject({
      kind: 'call',
    });
  });

  it.each(['transient', 'provider_error'] as const)(
    'reads share one try per interval after a %s failure (held back for the rest of it)',
    (cls) => {
      const lastError = { class: cls, code: 'timeout', http_status: null, at: at(-2_000).toISOString() };
      const d = plan(rowOf({ lastError }), 'on_demand', 0, config, T0);
      expect(d).toEqual({
        kind: 'hold',
        failure: { class: cls, code: 'timeout', httpStatus: null, ambiguous: false },
        waitSeconds: (ON_DEMAND_RETRY_MS - 2_000) / 1000,
      });
      expect(plan(rowOf({ lastError }), 'on_demand', 0, config, T0 + 3_001)).toMatchObject({ kind: 'call' });
      // A forced refresh is the operator's call: not held back.
      expect(plan(rowOf({ lastError }), 'forced', 0, config, T0)).toMatchObject({ kind: 'call' });
    },
  );

  it('reads never call the provider more than once per MIN_REFRESH_INTERVAL_SECONDS per connection', () => {
    const floor = config.MIN_REFRESH_INTERVAL_SECONDS;
    // Refreshed 10 s ago, and what the provider gave (expires_in: 0) is not fresh for any read.
    const row = rowOf({ lastRefreshedAt: at(-10_000), accessTokenExpiresAt: at(-10_000) });
    expect(plan(row, 'on_demand', 60, config, T0)).toEqual({
      kind: 'hold',
      failure: { class: 'rate_limited', code: 'min_refresh_interval', httpStatus: null, ambiguous: false },
      waitSeconds: floor - 10,
    });
    expect(plan(row, 'on_demand', 60, config, T0 + floor * 1000 - 10_000)).toMatchObject({ kind: 'call' });
    // A fresh enough token is still served; an operator's forced refresh is not held.
    expect(
      plan(
        rowOf({ lastRefreshedAt: at(-10_000), accessTokenExpiresAt: at(600_000) }),
        'on_demand',
        60,
        config,
        T0,
      ),
    ).toMatchObject({ kind: 'done' });
    expect(plan(row, 'forced', 0, config, T0)).toMatchObject({ kind: 'call' });
  });

  it('a read after a rate-limit failure is not held by the retry interval (the integration limit decides)', () => {
    const lastError = {
      class: 'rate_limited',
      code: 'http_429',
      http_status: 429,
      at: at(-1_000).toISOString(),
    };
    expect(plan(rowOf({ lastError }), 'on_demand', 0, config, T0)).toMatchObject({ kind: 'call' });
  });

  it('a scheduled job runs only inside its early window, and never for an unscheduled connection', () => {
    const expires = at(600_000);
    // Early window: min(lookahead, a tenth of the remaining life) plus 5 s of slack.
    const windowMs = Math.min(config.SWEEP_LOOKAHEAD_SECONDS * 1000, 60_000) + 5_000;
    const due = (offset: number) => rowOf({ accessTokenExpiresAt: expires, nextRefreshAt: at(offset) });
    expect(plan(due(windowMs - 1), 'scheduled', 0, config, T0)).toMatchObject({ kind: 'call' });
    expect(plan(due(windowMs + 1), 'scheduled', 0, config, T0)).toMatchObject({
      kind: 'done',
      report: { outcome: 'success', calledProvider: false },
    });
    expect(plan(rowOf({ nextRefreshAt: null }), 'scheduled', 0, config, T0)).toMatchObject({ kind: 'done' });
  });

  it('an integration whose credentials were rejected is not called; the wait is the backoff', () => {
    const row = rowOf({ refreshFailures: 2 }, { status: 'credentials_rejected' });
    const d = plan(row, 'scheduled', 0, config, T0, () => 1);
    expect(d).toEqual({
      kind: 'hold',
      failure: {
        class: 'integration_error',
        code: 'credentials_rejected',
        httpStatus: null,
        ambiguous: false,
      },
      waitSeconds: Math.min(config.REFRESH_BACKOFF_MAX_SECONDS, config.REFRESH_BACKOFF_BASE_SECONDS * 4),
    });
  });

  it('the lock outlives the call: the integration timeout, twice for a provider with a grace window', () => {
    expect(plan(rowOf(), 'forced', 0, config, T0)).toEqual({
      kind: 'call',
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      lockTtlMs: lockTtlMs(config.PROVIDER_TIMEOUT_MS),
    });
    const slow = rowOf({}, { requestTimeoutMs: 120_000 });
    expect(plan(slow, 'forced', 0, config, T0)).toEqual({
      kind: 'call',
      timeoutMs: 120_000,
      lockTtlMs: 125_000,
    });
    const xero = rowOf({}, { provider: 'xero', tokenUrl: null });
    expect(plan(xero, 'forced', 0, config, T0)).toMatchObject({
      lockTtlMs: 2 * config.PROVIDER_TIMEOUT_MS + 5_000,
    });
  });

  it('a slowed-down integration holds every trigger back for what is left of the slow-down', () => {
    expect(rateLimitedHold(7.5)).toEqual({
      kind: 'hold',
      failure: expect.objectContaining({
        class: 'rate_limited',
        code: 'provider_slowed_down',
        retryAfterSeconds: 7.5,
      }),
      waitSeconds: 7.5,
    });
  });
});

describe('refresh policy: a reader that waited for another refresher', () => {
  const before = rowOf({ version: 3, updatedAt: at(-10_000), accessTokenExpiresAt: at(-1_000) });

  it('the holder flagged the grant: the reader answers reauth_required without a call', () => {
    const after = rowOf({ status: 'needs_reauth', updatedAt: at(0) });
    expect(afterWaiting(before, after, 'on_demand', 0, T0)).toMatchObject({
      outcome: 'reauth_required',
      calledProvider: false,
    });
  });

  it('the holder refreshed: a read takes its token if fresh enough; scheduled work sees the new version', () => {
    const after = rowOf({ version: 4, updatedAt: at(0), accessTokenExpiresAt: at(3_600_000) });
    expect(afterWaiting(before, after, 'on_demand', 60, T0)).toMatchObject({
      outcome: 'success',
      calledProvider: false,
    });
    expect(afterWaiting(before, after, 'forced', 0, T0)).toMatchObject({ outcome: 'success' });
    // Not fresh enough for this reader's min_ttl, and the holder did write: its outcome stands (no second call).
    expect(afterWaiting(before, after, 'on_demand', 7_200, T0)).toMatchObject({ outcome: 'transient' });
  });

  it('the holder failed: its outcome and backoff stand, readers do not bypass them', () => {
    const lastError = {
      class: 'rate_limited' as const,
      code: 'http_429',
      http_status: 429,
      at: at(0).toISOString(),
    };
    const after = rowOf({ updatedAt: at(0), lastError, nextRefreshAt: at(7_000) });
    expect(afterWaiting(before, after, 'on_demand', 0, T0)).toMatchObject({
      outcome: 'rate_limited',
      calledProvider: false,
      retryAfterSeconds: 7,
    });
  });

  it('the holder changed nothing: the reader tries itself', () => {
    expect(afterWaiting(before, rowOf({ ...before }), 'on_demand', 0, T0)).toBeNull();
  });
});
