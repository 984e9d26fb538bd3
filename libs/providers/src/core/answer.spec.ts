import { MALFORMED_CODE, parseBody, retryAfterSeconds, safeCode, shapeOf } from './answer';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const wait = (headers: Record<string, string>) => retryAfterSeconds(new Headers(headers), NOW);

describe('retryAfterSeconds survives absurd values', () => {
  it('reads deltas, HTTP dates and x-ratelimit-reset', () => {
    expect(wait({ 'retry-after': '30' })).toBe(30);
    expect(wait({ 'retry-after': 'Sun, 22 Nov 2026 12:01:00 GMT' })).toBe(60);
    expect(wait({ 'x-ratelimit-reset': String(NOW / 1000 + 90) })).toBe(90);
    expect(wait({ 'x-ratelimit-reset': '15' })).toBe(15);
  });

  it('is always a finite whole number from 0 to 2^31-1, or undefined', () => {
    const values = [
      '-5',
      '-1',
      'NaN',
      'Infinity',
      '1e400',
      '9'.repeat(400),
      '99999999999999999999',
      '1.5',
      '0x10',
      '',
      ' ',
      'soon',
      'Sun, 22 Nov 1970 12:00:00 GMT',
      'Fri, 31 Dec 9999 23:59:59 GMT',
      'Mon, 01 Jan 275000 00:00:00 GMT',
      'Tue, 99 Foo 2026 99:99:99 GMT',
      '2026-11-22T12:01:00Z',
      '-271821-04-20',
    ];
    for (const v of values) {
      for (const header of ['retry-after', 'x-ratelimit-reset']) {
        const got = wait({ [header]: v });
        if (got === undefined) continue;
        expect(Number.isInteger(got)).toBe(true);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeLessThanOrEqual(2 ** 31 - 1);
      }
    }
  });

  it('ignores values that are not a delta or an HTTP date', () => {
    expect(wait({ 'retry-after': '-5' })).toBeUndefined();
    expect(wait({ 'retry-after': '-271821-04-20' })).toBeUndefined();
    expect(wait({ 'retry-after': '2026-11-22T12:01:00Z' })).toBeUndefined();
    expect(wait({ 'retry-after': 'NaN' })).toBeUndefined();
    expect(wait({ 'x-ratelimit-reset': '-5' })).toBeUndefined();
  });

  it('bounds huge deltas and far-away dates; past dates wait 0', () => {
    expect(wait({ 'retry-after': '9'.repeat(20) })).toBe(2 ** 31 - 1);
    expect(wait({ 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' })).toBe(2 ** 31 - 1);
    expect(wait({ 'retry-after': 'Sun, 22 Nov 1970 12:00:00 GMT' })).toBe(0);
    expect(wait({ 'x-ratelimit-reset': '9'.repeat(20) })).toBe(2 ** 31 - 1);
    expect(wait({ 'x-ratelimit-reset': '1000000001' })).toBe(0); // an epoch long past
  });
});

describe('safeCode', () => {
  it('keeps codes that look like codes', () => {
    for (const code of [
      'invalid_grant',
      'AADSTS700082',
      '4711',
      'BAD_REFRESH_TOKEN',
      'urn:ietf:x.y-z',
      'a'.repeat(64),
    ]) {
      expect(safeCode(code)).toBe(code);
    }
    expect(safeCode(undefined)).toBeUndefined();
  });

  it('replaces anything else with the fixed placeholder', () => {
    for (const code of [
      '',
      'a'.repeat(65),
      'x'.repeat(5000),
      'has space',
      'quote"d',
      'new\nline',
      'ünïcode',
      '<b>',
      '{}',
    ]) {
      expect(safeCode(code)).toBe(MALFORMED_CODE);
    }
  });
});

describe('shapeOf', () => {
  const json = (value: Record<string, unknown>) => shapeOf({ kind: 'json', value });

  it('lists sorted keys, never values', () => {
    expect(json({ b: 'secret-value', a: 1 })).toBe('json{a,b}');
  });

  it('bounds the key set: odd keys as ?, at most 20 keys, then a count', () => {
    expect(json({ 'ya29.a0AfB_byC-token-looking-value-that-is-long': 1, ok: 2 })).toBe('json{?,ok}');
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]));
    const shape = json(many);
    expect(shape.length).toBeLessThan(300);
    expect(shape).toMatch(/,\+980}$/);
  });

  it('echoes a media type only when it looks like one', () => {
    const other = (contentType: string, length = 3) => shapeOf({ kind: 'other', contentType, length });
    expect(other('text/html')).toBe('text/html;len=3');
    expect(other('none', 0)).toBe('none;len=0');
    expect(other('text/<script>')).toBe('other;len=3');
    expect(other(`application/${'x'.repeat(200)}`)).toBe('other;len=3');
  });

  it('reads the media type from the header for non-JSON bodies', () => {
    expect(shapeOf(parseBody(new Headers({ 'content-type': 'text/plain; charset=utf-8' }), 'hi'))).toBe(
      'text/plain;len=2',
    );
  });
});
