/**
 * An end user's browser, played headlessly over HTTP against oidc-provider's development interactions: follows
 * the authorize URL's redirects with its cookies, signs in and consents through the forms (or aborts), and
 * stops at the first redirect that leaves the authorization server (the vault's callback), which it answers.
 */
export interface UserChoice {
  /** Sign in as this account (default user-1). */
  accountId?: string;
  /** Refuse at the consent step: the provider redirects with error=access_denied. */
  refuse?: boolean;
}

export async function authorizeAsUser(authorizeUrl: string, choice: UserChoice = {}): Promise<URL> {
  const origin = new URL(authorizeUrl).origin;
  const jar = new Map<string, string>();
  const send = async (url: string, form?: Record<string, string>): Promise<Response> => {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };

  let url = authorizeUrl;
  let form: Record<string, string> | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await send(url, form);
    form = undefined;
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.origin !== origin) return next; // left the authorization server: the redirect URI
      url = next.href;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200)
      throw new Error(`authorization server answered ${res.status}: ${html.slice(0, 200)}`);
    if (html.includes('name="prompt" value="login"')) {
      form = { prompt: 'login', login: choice.accountId ?? 'user-1', password: 'any' };
    } else if (html.includes('name="prompt" value="consent"')) {
      if (choice.refuse) {
        url = `${url.replace(/\/$/, '')}/abort`;
        continue;
      }
      form = { prompt: 'consent' };
    } else {
      throw new Error(`unexpected page from the authorization server: ${html.slice(0, 200)}`);
    }
  }
  throw new Error('too many redirects');
}
