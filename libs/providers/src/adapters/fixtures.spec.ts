import { createDefaultRegistry } from '../registry';
import { FIXTURES_BUILT_AT, type FixtureRow, type ProviderFixtures } from './fixture';
import { auth0Fixtures } from './auth0.fixtures';
import { catalogueOnlyFixtures } from './catalogue-only.fixtures';
import { githubFixtures } from './github.fixtures';
import { googleFixtures } from './google.fixtures';
import { hubspotFixtures } from './hubspot.fixtures';
import { microsoftFixtures } from './microsoft.fixtures';
import { oauth2Fixtures } from './oauth2.fixtures';
import { slackFixtures } from './slack.fixtures';

const MAJOR: ProviderFixtures[] = [
  oauth2Fixtures,
  googleFixtures,
  slackFixtures,
  auth0Fixtures,
  microsoftFixtures,
  githubFixtures,
  hubspotFixtures,
];
const registry = createDefaultRegistry();

/** Everything a failure may hold: its shape, never the answer's text. */
const SHAPE_FIELDS = new Set([
  'class',
  'code',
  'subCode',
  'httpStatus',
  'ambiguous',
  'retryAfterSeconds',
  'shape',
]);

/** The human text of an error body (descriptions, messages, reasons) at least 8 characters long. */
function freeText(body: FixtureRow['body']): string[] {
  if (typeof body === 'string') return [];
  return ['error_description', 'message', 'reason', 'detail']
    .map((key) => body[key])
    .filter((v): v is string => typeof v === 'string' && v.length >= 8);
}

function answerOf(row: FixtureRow) {
  const isObject = typeof row.body !== 'string';
  const headers = new Headers(row.headers ?? (isObject ? { 'content-type': 'application/json' } : {}));
  return {
    status: row.status,
    headers,
    bodyText: isObject ? JSON.stringify(row.body) : (row.body as string),
  };
}

describe.each([...MAJOR, ...catalogueOnlyFixtures].map((f) => [f.provider, f] as const))(
  'recorded answers: %s',
  (provider, fixtures) => {
    it.each(fixtures.rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
      const result = registry.get(provider).classify(answerOf(row));
      const { expect: expected } = row;
      if (expected.ok) {
        if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`);
        expect(result.httpStatus).toBe(row.status);
        expect(result.tokens).toMatchObject(expected.tokens);
        return;
      }
      if (result.ok) throw new Error('expected a failure, got success');
      const { retryAfterSeconds, ...rest } = expected;
      const { ok: _ok, ...fields } = rest;
      expect(result.failure).toMatchObject({ httpStatus: row.status, ...fields });
      if (retryAfterSeconds !== undefined) {
        // A reset given as a time counts down from when the fixtures were built: allow for the time since
        // (a loaded machine can take seconds between loading the modules and running this row).
        const aged = Math.ceil((Date.now() - FIXTURES_BUILT_AT) / 1000);
        const got = result.failure.retryAfterSeconds ?? -99;
        expect(got).toBeGreaterThanOrEqual(retryAfterSeconds - 1 - aged);
        expect(got).toBeLessThanOrEqual(retryAfterSeconds + 1);
      }
      if (result.failure.class === 'provider_error') expect(result.failure.shape).toBeDefined();
      // Only the answer's shape is kept: no free text (error_description, message, reason) in any form.
      const kept = JSON.stringify(result.failure);
      for (const key of Object.keys(result.failure)) expect(SHAPE_FIELDS.has(key)).toBe(true);
      for (const text of [...(row.secrets ?? []), ...freeText(row.body)]) expect(kept).not.toContain(text);
    });
  },
);

it('has at least 6 recorded answers per major provider', () => {
  for (const fixtures of MAJOR) expect(fixtures.rows.length).toBeGreaterThanOrEqual(6);
});
