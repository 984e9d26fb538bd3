import { Logger } from '@nestjs/common';
import { CATALOGUE, type TokenSet } from '@vault/providers';
import { RefreshOutcomes } from './refresh-outcome';
import type { PlannedCall } from './refresh.types';
import { failureOf, fakePorts, rowOf, T0, unitConfig as config } from './testing/fakes';

const tokens = (t: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: 'at-new',
  tokenType: 'bearer',
  expiresIn: 3600,
  refreshToken: null,
  scopes: null,
  refreshTokenExpiresIn: null,
  ...t,
});

function callFor(row = rowOf()): PlannedCall {
  return {
    row,
    trigger: 'scheduled',
    provider: 'oauth2',
    entry: CATALOGUE.oauth2,
    adapter: undefined as never,
    refreshToken: 'rt-old',
    attempt: {
      id: 'a1',
      connectionId: row.id,
      trigger: 'scheduled',
      connectionVersion: row.version,
      refreshTokenFingerprint: 'fp',
    },
    request: undefined as never,
    previousSecretRequest: null,
  };
}

// Warnings the handler logs on races and rejections are part of its job, not of this spec's output.
beforeAll(() => Logger.overrideLogger(false));

describe('outcome handling: a successful answer', () => {
  it('seals the new access token, computes expiry and the next due time (margin, no jitter)', async () => {
    const { ports } = fakePorts(rowOf());
    const { write, report } = await new RefreshOutcomes(ports).success(callFor(), tokens());
    expect(write).toMatchObject({
      id: 'c1',
      version: 3,
      attemptId: 'a1',
      accessTokenSealed: Buffer.from('sealed:at-new'),
      accessTokenExpiresAt: new Date(T0 + 3_600_000),
      refreshTokenSealed: null,
      tokenType: 'Bearer',
      nextRefreshAt: new Date(T0 + 3_600_000 - config.REFRESH_MARGIN_SECONDS * 1000),
      eventDetail: { trigger: 'scheduled', rotated: false },
    });
    expect(report).toEqual({
      outcome: 'success',
      calledProvider: true,
      status: 'active',
      expiresAt: new Date(T0 + 3_600_000),
      retryAfterSeconds: null,
    });
  });

  it('a rotated refresh token is sealed with the write; the same one returned is not', async () => {
    const o = new RefreshOutcomes(fakePorts(rowOf()).ports);
    const rotated = await o.success(callFor(), tokens({ refreshToken: 'rt-new', refreshTokenExpiresIn: 60 }));
    expect(rotated.write.refreshTokenSealed).toEqual(Buffer.from('sealed:rt-new'));
    expect(rotated.write.refreshTokenExpiresAt).toEqual(new Date(T0 + 60_000));
    expect(rotated.write.eventDetail).toMatchObject({ rotated: true });
    const same = await o.success(callFor(), tokens({ refreshToken: 'rt-old' }));
    expect(same.write.refreshTokenSealed).toBeNull();
  });

  it('a short-lived token gets at most half its life as margin; no expires_in takes the catalogue default', async () => {
    const o = new RefreshOutcomes(fakePorts(rowOf()).ports);
    const short = await o.success(callFor(), tokens({ expiresIn: 200 }));
    expect(short.write.nextRefreshAt).toEqual(new Date(T0 + 100_000));
    const none = await o.success(callFor(), tokens({ expiresIn: null }));
    expect(none.write.accessTokenExpiresAt).toEqual(
      new Date(T0 + CATALOGUE.oauth2.defaultAccessTokenTtlSeconds * 1000),
    );
    const slack = await o.success(callFor(), tokens({ tokenType: 'bot' }));
    expect(slack.write.tokenType).toBe('bot');
  });

  it('an expires_in of 0 or a tiny one is not due again before MIN_REFRESH_INTERVAL_SECONDS', async () => {
    const o = new RefreshOutcomes(fakePorts(rowOf()).ports);
    for (const expiresIn of [0, 1, 30]) {
      const { write } = await o.success(callFor(), tokens({ expiresIn }));
      expect(write.accessTokenExpiresAt).toEqual(new Date(T0 + expiresIn * 1000));
      expect(write.nextRefreshAt).toEqual(new Date(T0 + config.MIN_REFRESH_INTERVAL_SECONDS * 1000));
    }
  });

  it('a NUL in token_type or a scope (PostgreSQL text cannot hold it) is dropped, not a write that fails forever', async () => {
    const o = new RefreshOutcomes(fakePorts(rowOf()).ports);
    const { write } = await o.success(
      callFor(),
      tokens({ tokenType: 'Bea\u0000rer', scopes: ['a\u0000b', 'c'] }),
    );
    expect(write.tokenType).toBe('Bearer');
    expect(write.scopes).toEqual(['ab', 'c']);
  });

  it('the expiry counts from the answer, not from a write retried later', async () => {
    const o = new RefreshOutcomes(fakePorts(rowOf(), () => T0 + 60_000).ports);
    const { write } = await o.success(callFor(), tokens(), T0);
    expect(write.accessTokenExpiresAt).toEqual(new Date(T0 + 3_600_000));
  });

  it('counts the success whether or not the fenced write applied (a newer grant is kept)', () => {
    const { ports, state } = fakePorts(rowOf());
    const o = new RefreshOutcomes(ports);
    o.afterSuccess(callFor(), true);
    o.afterSuccess(callFor(), false);
    expect(state.counted).toEqual(['scheduled:success', 'scheduled:success']);
  });
});

describe('outcome handling: every failure class', () => {
  it('invalid_grant → needs_reauth with the reason, scheduling stopped, one hook', async () => {
    const { ports, state } = fakePorts(rowOf());
    const report = await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'on_demand',
      failureOf({
        class: 'reauth_required',
        code: 'invalid_grant',
        subCode: 'invalid_rapt',
        httpStatus: 400,
      }),
    );
    expect(report).toMatchObject({
      outcome: 'reauth_required',
      calledProvider: true,
      status: 'needs_reauth',
    });
    expect(state.failures).toEqual([
      expect.objectContaining({
        status: 'needs_reauth',
        statusReason: 'invalid_grant:invalid_rapt',
        nextRefreshAt: null,
        attemptId: 'a1',
        event: {
          type: 'needs_reauth',
          detail: expect.objectContaining({ code: 'invalid_grant', sub_code: 'invalid_rapt' }),
        },
      }),
    ]);
    expect(state.needsReauth).toEqual([
      expect.objectContaining({ connectionId: 'c1', reason: 'invalid_grant:invalid_rapt' }),
    ]);
  });

  it('race: invalid_grant after the grant changed meanwhile is a lost race, not a flag', async () => {
    const { ports, state } = fakePorts(rowOf({ version: 4, accessTokenExpiresAt: new Date(T0 + 3_600_000) }));
    const report = await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'reauth_required', code: 'invalid_grant' }),
    );
    expect(report).toMatchObject({ outcome: 'success', calledProvider: true, status: 'active' });
    expect(state.failures).toEqual([]);
    expect(state.finished).toEqual([{ id: 'a1', outcome: 'race_lost' }]);
    expect(state.needsReauth).toEqual([]);
  });

  it('race: the grant was replaced and flagged by the other side: reauth_required, still no hook from us', async () => {
    const { ports, state } = fakePorts(rowOf({ version: 4, status: 'needs_reauth' }));
    const report = await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'reauth_required', code: 'invalid_grant' }),
    );
    expect(report.outcome).toBe('reauth_required');
    expect(state.needsReauth).toEqual([]);
  });

  it('invalid_client → the integration is marked credentials_rejected (one hook), the connection is not flagged', async () => {
    const { ports, state } = fakePorts(rowOf());
    const o = new RefreshOutcomes(ports);
    const f = failureOf({ class: 'integration_error', code: 'invalid_client', httpStatus: 401 });
    const r1 = await o.failure(rowOf(), 'a1', 'scheduled', f);
    await o.failure(rowOf(), 'a2', 'scheduled', f);
    expect(r1).toMatchObject({ outcome: 'integration_error', status: 'refresh_failing' });
    expect(state.rejected.map((r) => r.reason)).toEqual(['invalid_client', 'invalid_client']);
    expect(state.integrationRejected).toEqual([
      expect.objectContaining({ integrationId: 'i1', reason: 'invalid_client' }),
    ]);
    expect(state.failures.every((w) => w.status !== 'needs_reauth')).toBe(true);
    expect(state.needsReauth).toEqual([]);
  });

  it('rate_limited → the provider’s wait is used and the whole integration slows down', async () => {
    const { ports, state } = fakePorts(rowOf());
    const report = await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'rate_limited', code: 'http_429', httpStatus: 429, retryAfterSeconds: 7 }),
    );
    expect(report).toMatchObject({ outcome: 'rate_limited', retryAfterSeconds: 7 });
    expect(state.slowedDown).toEqual([{ integrationId: 'i1', seconds: 7 }]);
    expect(state.failures[0]).toMatchObject({
      nextRefreshAt: new Date(T0 + 7_000),
      status: 'refresh_failing',
    });
  });

  it('a Retry-After of a year is capped at RATE_LIMIT_MAX_WAIT_SECONDS', async () => {
    const { ports, state } = fakePorts(rowOf());
    const report = await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'rate_limited', code: 'http_429', httpStatus: 429, retryAfterSeconds: 31_536_000 }),
    );
    const cap = config.RATE_LIMIT_MAX_WAIT_SECONDS;
    expect(report.retryAfterSeconds).toBe(cap);
    expect(state.slowedDown).toEqual([{ integrationId: 'i1', seconds: cap }]);
    expect(state.failures[0]?.nextRefreshAt).toEqual(new Date(T0 + cap * 1000));
  });

  it('rate_limited without a Retry-After falls back to the backoff', async () => {
    const { ports, state } = fakePorts(rowOf());
    await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'rate_limited', code: 'http_429', httpStatus: 429 }),
    );
    expect(state.slowedDown).toEqual([
      { integrationId: 'i1', seconds: config.REFRESH_BACKOFF_BASE_SECONDS / 2 },
    ]);
  });

  it.each([
    ['timeout', null],
    ['http_503', 503],
    ['connection_reset', null],
  ])(
    'transient %s → backoff grows with failures; a still-valid token keeps the connection active',
    async (code, httpStatus) => {
      const valid = rowOf({ accessTokenExpiresAt: new Date(T0 + 60_000), refreshFailures: 3 });
      const { ports, state } = fakePorts(valid);
      const report = await new RefreshOutcomes(ports).failure(
        valid,
        'a1',
        'scheduled',
        failureOf({ class: 'transient', code, httpStatus, ambiguous: true }),
      );
      const wait = (config.REFRESH_BACKOFF_BASE_SECONDS * 8) / 2;
      expect(report).toMatchObject({ outcome: 'transient', status: 'active', retryAfterSeconds: wait });
      expect(state.failures[0]).toMatchObject({
        status: null,
        nextRefreshAt: new Date(T0 + wait * 1000),
        incrementFailures: true,
        event: {
          type: 'refresh_failed',
          detail: expect.objectContaining({ code, retry_in_seconds: Math.round(wait) }),
        },
      });
      expect(state.needsReauth).toEqual([]);
    },
  );

  it('an expired token with a transient failure → refresh_failing with the class and code as reason', async () => {
    const { ports, state } = fakePorts(rowOf());
    await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'scheduled',
      failureOf({ class: 'transient', code: 'timeout' }),
    );
    expect(state.failures[0]).toMatchObject({ status: 'refresh_failing', statusReason: 'transient:timeout' });
  });

  it('a malformed answer → provider_error whose event carries the shape, never the answer text', async () => {
    const { ports, state } = fakePorts(rowOf());
    await new RefreshOutcomes(ports).failure(
      rowOf(),
      'a1',
      'on_demand',
      failureOf({ class: 'provider_error', code: 'non_json_body', httpStatus: 200, shape: 'text/html' }),
    );
    const w = state.failures[0];
    expect(w?.lastError).toEqual({
      class: 'provider_error',
      code: 'non_json_body',
      http_status: 200,
      at: new Date(T0).toISOString(),
    });
    expect(w?.event.detail).toMatchObject({ shape: 'text/html', trigger: 'on_demand' });
    expect(state.counted).toEqual(['on_demand:provider_error']);
  });
});

describe('outcome handling: hold-back (no provider call)', () => {
  const f = failureOf({ class: 'rate_limited', code: 'provider_slowed_down' });

  it('puts a scheduled refresh off by the wait, fenced by version, and writes nothing else', async () => {
    const { ports, state } = fakePorts(rowOf());
    const report = await new RefreshOutcomes(ports).holdBack(rowOf(), 'scheduled', f, 12);
    expect(report).toMatchObject({ outcome: 'rate_limited', calledProvider: false, retryAfterSeconds: 12 });
    expect(state.rescheduled).toEqual([{ id: 'c1', version: 3, at: new Date(T0 + 12_000) }]);
    expect(state.failures).toEqual([]);
    expect(state.counted).toEqual([]);
  });

  it('a read held back writes nothing at all (reads cannot flood the history)', async () => {
    const { ports, state } = fakePorts(rowOf());
    await new RefreshOutcomes(ports).holdBack(rowOf(), 'on_demand', f, 12);
    expect(state.rescheduled).toEqual([]);
  });
});
