import type { components, operations } from './generated/openapi';

// Request shapes: generated from docs/openapi.json (npm run client:types).

/** Body of `POST /v1/connections`. */
export type ImportConnectionInput = components['schemas']['ImportConnectionDto'];
/** Body of `PUT /v1/connections/:id/grant`. */
export type GrantInput = components['schemas']['GrantDto'];
/** Starts the OAuth flow (authorization code + PKCE) for a new connection, or a re-consent with `connection_id`. */
export type ConnectSessionInput = components['schemas']['StartConnectSessionDto'];
/** Query of `GET /v1/connections`. */
export type ListConnectionsQuery = NonNullable<
  operations['ConnectionsController_list']['parameters']['query']
>;
/** Query of `GET /v1/connections/:id/events`. */
export type PageQuery = NonNullable<operations['ConnectionsController_events']['parameters']['query']>;
export type ConnectionStatus = NonNullable<ListConnectionsQuery['status']>;
export type ProviderName = NonNullable<ListConnectionsQuery['provider']>;

// Answer shapes: the OpenAPI document does not describe answers, so these follow the API (README, "API").

/** `GET /v1/connections/:id/token`. */
export interface AccessToken {
  connection_id: string;
  access_token: string;
  token_type: string;
  /** ISO 8601, UTC. */
  expires_at: string;
  scopes: string[];
}

/** A connection's metadata; never a secret. */
export interface Connection {
  id: string;
  integration: string;
  provider: ProviderName | (string & {});
  tenant_id: string;
  external_id: string | null;
  end_user_id: string | null;
  status: ConnectionStatus;
  /** Why it needs re-consent or fails (e.g. `invalid_grant`). */
  status_reason: string | null;
  scopes: string[];
  token_type: string;
  access_token_expires_at: string | null;
  refresh_token_expires_at: string | null;
  /** Set while the refresh token dies within REAUTH_WARNING_DAYS: the time it dies (re-consent before). */
  reauth_due_at: string | null;
  next_refresh_at: string | null;
  last_refreshed_at: string | null;
  refresh_failures: number;
  last_error: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** `POST /v1/connections/:id/revoke`: the connection, now `revoked`, and what the provider said. */
export interface RevokedConnection extends Connection {
  provider_revocation: 'revoked' | 'not_supported' | 'failed' | 'already_revoked';
}

/** Send the end user's browser to `authorize_url` before `expires_at`. */
export interface ConnectSession {
  id: string;
  authorize_url: string;
  expires_at: string;
}

export interface ConnectionEvent {
  id: string;
  /** `created`, `refreshed`, `refresh_failed`, `needs_reauth`, `reauthorized`, `grant_replaced`, ... */
  type: string;
  detail: Record<string, unknown> | null;
  created_at: string;
}

/** Outcome of a refresh (docs/contract.md, "Metrics"). */
export type RefreshOutcome =
  'success' | 'reauth_required' | 'integration_error' | 'transient' | 'rate_limited' | 'provider_error';

/** `POST /v1/connections/:id/refresh`. */
export interface RefreshResult {
  outcome: RefreshOutcome;
  status: ConnectionStatus;
  expires_at: string | null;
  /** False when the refresh joined one already in flight, or no provider call was allowed. */
  called_provider: boolean;
  /** Seconds, when the refresh did not succeed. */
  retry_after?: number;
}

/** A list answer: follow `next_cursor` until it is null. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
