/** Shape of the recorded-answer tables that `fixtures.spec.ts` runs through each adapter's `classify`. */
import type { FailureClass, ProviderName, TokenSet } from '../types';

export type FixtureExpectation =
  | { ok: true; tokens: Partial<TokenSet> }
  | {
      ok: false;
      class: FailureClass;
      code: string;
      httpStatus?: number;
      subCode?: string;
      /** Checked to ±1 s (HTTP dates and x-ratelimit-reset are relative to now). */
      retryAfterSeconds?: number;
      ambiguous?: boolean;
      shape?: string;
    };

export interface FixtureRow {
  name: string;
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON (content-type application/json unless headers say otherwise). */
  body: string | Record<string, unknown>;
  expect: FixtureExpectation;
  /** Strings that must not appear anywhere in a failure (tokens echoed by the provider). */
  secrets?: string[];
}

export interface ProviderFixtures {
  provider: ProviderName;
  rows: FixtureRow[];
}

export const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};
export const HTML_HEADERS = { 'content-type': 'text/html; charset=UTF-8' };

/** UNIX seconds `delta` from now, for x-ratelimit-reset headers. */
/** When the fixture modules were built: times computed relative to "now" (epochIn, httpDateIn) age from here. */
export const FIXTURES_BUILT_AT = Date.now();

export function epochIn(delta: number): string {
  return String(Math.floor(Date.now() / 1000) + delta);
}

/** An HTTP date `delta` seconds from now, for Retry-After headers. */
export function httpDateIn(delta: number): string {
  return new Date(Date.now() + delta * 1000).toUTCString();
}
