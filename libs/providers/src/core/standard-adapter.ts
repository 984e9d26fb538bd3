/**
 * The shared adapter: builds the refresh/revoke request with oauth4webapi, reads the raw answer, and classifies
 * it. Provider adapters subclass it and override only what is off-standard (error fields, code tables, a rule).
 *
 * oauth4webapi is used for request building and client authentication (Basic credentials form-urlencoded then
 * base64, RFC 6749 §2.3.1), HTTPS enforcement and the AbortSignal. Its response processing
 * (processRefreshTokenResponse) is not used: it throws on Slack/GitHub HTTP-200 errors, HubSpot shapes and
 * non-JSON bodies, so `classify` stays the single place where answers are interpreted.
 */
import * as oauth from 'oauth4webapi';
import { createOutboundFetch, type OutboundFetch, type Resolver } from '../outbound/outbound-fetch';
import { checkTarget, DEVELOPMENT_POLICY, type OutboundPolicy, parseTarget } from '../outbound/policy';
import type {
  CatalogueEntry,
  ClientAuthMethod,
  CodeExchangeRequest,
  FailureClass,
  ProviderAdapter,
  ProviderFailure,
  ProviderName,
  RawAnswer,
  RefreshRequest,
  RefreshResult,
  RevokeRequest,
  RevokeResult,
  TokenSet,
} from '../types';
import {
  type JsonObject,
  type ParsedBody,
  parseBody,
  retryAfterSeconds,
  safeCode,
  secondsField,
  shapeOf,
  stringField,
} from './answer';
import {
  AMBIGUOUS_CODES,
  AMBIGUOUS_STATUSES,
  type CodeTable,
  lookup,
  STANDARD_CODES,
} from './standard-errors';
import { fetchAnswer, signalsFor, TransportFailure } from './transport';

export interface AdapterDeps {
  /** The outbound rules (default: development's, where plain http reaches loopback only). */
  policy?: OutboundPolicy;
  /** Default: the guarded fetch of these rules (share one between adapters: it holds the connection pools). */
  fetch?: OutboundFetch;
  /** DNS for the guarded fetch's connect-time checks (default: the system resolver). */
  resolver?: Resolver;
}

/** What an error answer says, read from the provider's envelope: codes only, never its free text. */
export interface ErrorFields {
  code: string;
  subCode?: string;
}

interface Outgoing {
  url: string;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class StandardAdapter implements ProviderAdapter {
  private readonly fetchImpl: OutboundFetch;
  private readonly policy: OutboundPolicy;

  constructor(
    readonly catalogue: CatalogueEntry,
    deps: AdapterDeps = {},
    /** Provider codes (error or sub-code) checked before the standard table. */
    protected readonly codes: CodeTable = {},
  ) {
    this.policy = deps.policy ?? DEVELOPMENT_POLICY;
    this.fetchImpl = deps.fetch ?? createOutboundFetch(this.policy, deps.resolver);
  }

  get name(): ProviderName {
    return this.catalogue.provider;
  }

  async refresh(req: RefreshRequest): Promise<RefreshResult> {
    const sent = await this.send(req, { url: req.endpoints.tokenUrl, ...req }, (as, client, auth, options) =>
      oauth.refreshTokenGrantRequest(as, client, auth, req.refreshToken, options),
    );
    if ('failure' in sent) return { ok: false, failure: sent.failure };
    return this.classify(sent.answer);
  }

  async exchangeCode(req: CodeExchangeRequest): Promise<RefreshResult> {
    const sent = await this.send(
      req,
      { url: req.endpoints.tokenUrl, ...req },
      (as, client, auth, options) => {
        // The state was checked (and the session consumed) by the caller: only the code travels here.
        const callback = oauth.validateAuthResponse(
          as,
          client,
          new URLSearchParams({ code: req.code }),
          oauth.expectNoState,
        );
        return oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          callback,
          req.redirectUri,
          req.codeVerifier,
          options,
        );
      },
    );
    if ('failure' in sent) return { ok: false, failure: sent.failure };
    return this.classify(sent.answer);
  }

  async revoke(req: RevokeRequest): Promise<RevokeResult> {
    const url = req.endpoints.revokeUrl;
    if (!url) {
      return {
        ok: false,
        failure: {
          class: 'integration_error',
          code: 'revocation_unsupported',
          httpStatus: null,
          ambiguous: false,
        },
      };
    }
    const sent = await this.send(req, { url, ...req }, (as, client, auth, options) =>
      oauth.revocationRequest(as, client, this.revokeAuth(auth), req.token, {
        ...options,
        additionalParameters: { token_type_hint: req.tokenTypeHint },
      }),
    );
    if ('failure' in sent) return { ok: false, failure: sent.failure };
    return this.classifyRevoke(sent.answer);
  }

  classify(answer: RawAnswer): RefreshResult {
    const body = parseBody(answer.headers, answer.bodyText);
    const read = body.kind === 'json' ? this.readError(body.value) : undefined;
    // Only codes that look like codes go further (into tables, events, last_error); never free text.
    const fields: ErrorFields | undefined = read && {
      code: safeCode(read.code) ?? read.code,
      ...(read.subCode !== undefined ? { subCode: safeCode(read.subCode) } : {}),
    };
    const cls = fields && this.errorClass(fields, answer);
    const fail = (
      klass: FailureClass,
      code: string,
      extra: Partial<ProviderFailure> = {},
    ): RefreshResult => ({
      ok: false,
      failure: this.failure(answer, klass, code, fields, body, extra),
    });

    // Redirects are never followed (token and revocation calls are sent with redirect: manual).
    if (answer.status >= 300 && answer.status < 400) {
      return fail('provider_error', 'redirect_refused', { shape: shapeOf(body) });
    }
    if (answer.status === 429) return fail('rate_limited', fields?.code ?? 'http_429');
    if (cls === 'rate_limited') return fail(cls, fields?.code ?? 'rate_limited');
    if (answer.status >= 500) return fail('transient', fields?.code ?? `http_${answer.status}`);
    if (body.kind === 'other') return this.classifyNonJson(answer, body);
    if (fields)
      return cls ? fail(cls, fields.code) : fail('provider_error', fields.code, { shape: shapeOf(body) });
    if (answer.status >= 200 && answer.status < 300) {
      const tokens = this.readTokens(body.value);
      if (tokens) return { ok: true, tokens, httpStatus: answer.status };
      return fail('provider_error', 'missing_access_token', { shape: shapeOf(body) });
    }
    return fail('provider_error', `http_${answer.status}`, { shape: shapeOf(body) });
  }

  // ---- hooks for provider adapters -------------------------------------------------------------------------

  /** The error in a JSON answer, or undefined when the answer does not carry one. */
  protected readError(body: JsonObject): ErrorFields | undefined {
    const code = stringField(body, 'error');
    return code === undefined ? undefined : { code };
  }

  /** Provider table first (sub-code, then code), then the standard table; undefined = unrecognised. */
  protected errorClass(fields: ErrorFields, _answer: RawAnswer): FailureClass | undefined {
    return (
      lookup(this.codes, fields.subCode) ??
      lookup(this.codes, fields.code) ??
      lookup(STANDARD_CODES, fields.code)
    );
  }

  /** A non-JSON body (HTML error page, garbage, empty) below 500. */
  protected classifyNonJson(answer: RawAnswer, body: ParsedBody): RefreshResult {
    return { ok: false, failure: this.failure(answer, 'transient', 'non_json_body', undefined, body) };
  }

  protected readTokens(body: JsonObject): TokenSet | null {
    const accessToken = stringField(body, 'access_token');
    if (accessToken === undefined) return null;
    const scope = body.scope;
    return {
      accessToken,
      tokenType: stringField(body, 'token_type') ?? 'Bearer',
      expiresIn: secondsField(body, 'expires_in'),
      refreshToken: stringField(body, 'refresh_token') ?? null,
      scopes: typeof scope === 'string' ? scope.split(/[\s,]+/).filter(Boolean) : null,
      refreshTokenExpiresIn:
        secondsField(body, 'refresh_token_expires_in') ?? secondsField(body, 'x_refresh_token_expires_in'),
    };
  }

  /** RFC 7009 §2.2: any 2xx is success, whatever the body. */
  protected classifyRevoke(answer: RawAnswer): RevokeResult {
    if (answer.status >= 200 && answer.status < 300) return { ok: true };
    const result = this.classify(answer);
    return result.ok
      ? { ok: false, failure: this.failure(answer, 'provider_error', `http_${answer.status}`) }
      : result;
  }

  protected revokeAuth(auth: oauth.ClientAuth): oauth.ClientAuth {
    return auth;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  protected failure(
    answer: RawAnswer,
    klass: FailureClass,
    code: string,
    fields?: ErrorFields,
    body?: ParsedBody,
    extra: Partial<ProviderFailure> = {},
  ): ProviderFailure {
    const failure: ProviderFailure = {
      class: klass,
      code,
      httpStatus: answer.status,
      ambiguous:
        klass === 'transient' && (AMBIGUOUS_STATUSES.has(answer.status) || AMBIGUOUS_CODES.has(code)),
    };
    if (fields?.subCode !== undefined) failure.subCode = fields.subCode;
    const retryAfter = retryAfterSeconds(answer.headers);
    if (retryAfter !== undefined) failure.retryAfterSeconds = retryAfter;
    if (body && (klass === 'provider_error' || body.kind === 'other')) failure.shape = shapeOf(body);
    return { ...failure, ...extra };
  }

  private async send(
    req: { timeoutMs: number; signal?: AbortSignal },
    out: Outgoing,
    call: (
      as: oauth.AuthorizationServer,
      client: oauth.Client,
      auth: oauth.ClientAuth,
      options: oauth.TokenEndpointRequestOptions,
    ) => Promise<Response>,
  ): Promise<{ answer: RawAnswer } | { failure: ProviderFailure }> {
    const signals = signalsFor(req.timeoutMs, req.signal);
    let answer: RawAnswer | undefined;
    const target = parseTarget(out.url);
    if (typeof target === 'string') {
      return {
        failure: { class: 'integration_error', code: 'invalid_endpoint', httpStatus: null, ambiguous: false },
      };
    }
    // Refused before anything is built or sent; the guarded fetch checks each address it connects to again.
    const refusal = checkTarget(target, this.policy);
    if (refusal !== null) {
      return {
        failure: {
          class: 'integration_error',
          code: 'outbound_url_refused',
          subCode: refusal,
          httpStatus: null,
          ambiguous: false,
        },
      };
    }
    const { url } = target;
    const as: oauth.AuthorizationServer = {
      issuer: url.origin,
      token_endpoint: out.url,
      revocation_endpoint: out.url,
    };
    const auth =
      out.clientAuth === 'client_secret_basic'
        ? oauth.ClientSecretBasic(out.clientSecret)
        : oauth.ClientSecretPost(out.clientSecret);
    const options: oauth.TokenEndpointRequestOptions = {
      signal: signals.combined,
      // Plain http passed the outbound rules (loopback, outside production); the guarded fetch checks again.
      [oauth.allowInsecureRequests]: target.scheme === 'http',
      [oauth.customFetch]: async (href, init) => {
        const sent = await fetchAnswer(this.fetchImpl, href, this.encodeBody(init), signals);
        answer = sent.answer;
        return sent.response;
      },
    };
    try {
      await call(as, { client_id: out.clientId }, auth, options);
    } catch (err) {
      if (err instanceof TransportFailure) return { failure: err.failure };
      const subCode = (err as { code?: unknown }).code;
      return {
        failure: {
          class: 'integration_error',
          code: 'request_rejected_locally',
          ...(typeof subCode === 'string' ? { subCode: safeCode(subCode) } : {}),
          httpStatus: null,
          ambiguous: false,
        },
      };
    }
    if (answer === undefined) throw new Error('oauth4webapi returned without calling fetch');
    return { answer };
  }

  /** Form by default; providers that want JSON (Atlassian, Notion) get the same parameters as a JSON object. */
  private encodeBody(init: oauth.CustomFetchOptions<'POST', URLSearchParams>): RequestInit {
    if (this.catalogue.requestBody !== 'json') return init;
    return {
      ...init,
      body: JSON.stringify(Object.fromEntries(init.body)),
      headers: { ...init.headers, 'content-type': 'application/json' },
    };
  }
}
