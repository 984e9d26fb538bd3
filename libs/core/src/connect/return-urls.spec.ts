import { VaultError } from '../errors/vault-error';
import { assertReturnUrlAllowed, checkAuthorizeParams } from './return-urls';

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof VaultError ? `${err.code}:${String(err.details.field)}` : 'other';
  }
}

describe('return_url against allowed_return_urls', () => {
  const allowed = ['https://app.example.com/oauth/done'];

  it.each([
    'https://app.example.com/oauth/done',
    'https://app.example.com/oauth/done?x=1',
    'https://app.example.com/oauth/done/tenant-1',
  ])('allows %s', (u) => {
    expect(refusal(() => assertReturnUrlAllowed(u, allowed, true))).toBeUndefined();
  });

  it.each([
    'https://app.example.com/oauth/done-evil',
    'https://app.example.com.evil.net/oauth/done',
    'http://app.example.com/oauth/done',
    'https://app.example.com:8443/oauth/done',
    'https://user:pw@app.example.com/oauth/done',
    'https://app.example.com/oauth/done#frag',
    'javascript:alert(1)',
    'not a url',
  ])('refuses %s (400 naming return_url)', (u) => {
    expect(refusal(() => assertReturnUrlAllowed(u, allowed, true))).toBe('validation_failed:return_url');
  });

  it('with an empty list allows loopback outside production only', () => {
    expect(refusal(() => assertReturnUrlAllowed('http://127.0.0.1:5000/cb', [], false))).toBeUndefined();
    expect(refusal(() => assertReturnUrlAllowed('http://localhost/cb', [], false))).toBeUndefined();
    expect(refusal(() => assertReturnUrlAllowed('http://127.0.0.1:5000/cb', [], true))).toBe(
      'validation_failed:return_url',
    );
    expect(refusal(() => assertReturnUrlAllowed('https://app.example.com/cb', [], false))).toBe(
      'validation_failed:return_url',
    );
  });
});

describe('authorize_params', () => {
  it('takes short string parameters and refuses the ones the vault sets', () => {
    expect(checkAuthorizeParams({ audience: 'https://api.example.com' })).toEqual({
      audience: 'https://api.example.com',
    });
    for (const bad of [{ state: 'x' }, { redirect_uri: 'x' }, { a: 1 }, { 'a b': 'x' }, ['x'], null]) {
      expect(refusal(() => checkAuthorizeParams(bad))).toBe('validation_failed:authorize_params');
    }
  });
});
