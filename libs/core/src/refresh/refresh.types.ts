import type { ConnectionStatus, RefreshRow, RefreshTrigger } from '@vault/persistence';
import type {
  CatalogueEntry,
  FailureClass,
  ProviderAdapter,
  ProviderName,
  RefreshRequest,
} from '@vault/providers';

/** Outcomes of design section 7, plus what happens when no provider call was needed. */
export type RefreshOutcome = FailureClass | 'success';

export interface RefreshReport {
  outcome: RefreshOutcome;
  /** False when the connection was already fresh or another refresher did the work. */
  calledProvider: boolean;
  status: ConnectionStatus;
  expiresAt: Date | null;
  /** Seconds until the next attempt, for 503 answers. */
  retryAfterSeconds: number | null;
  /** Why no call was made (a hold-back): `min_refresh_interval`, `provider_slowed_down`… */
  reason?: string;
}

export interface NeedsReauthEvent {
  connectionId: string;
  tenantId: string;
  integration: string;
  provider: string;
  reason: string;
}

export interface IntegrationRejectedEvent {
  integrationId: string;
  integration: string;
  provider: string;
  reason: string;
}

/** Hooks the refresher calls when a connection changes state (webhooks, pub/sub). */
export interface RefreshEvents {
  needsReauth(e: NeedsReauthEvent): void;
  integrationRejected(e: IntegrationRejectedEvent): void;
}

export const NO_EVENTS: RefreshEvents = {
  needsReauth: () => undefined,
  integrationRejected: () => undefined,
};

/** A provider call decided under the lock, ready to be journalled and made. */
export interface PlannedCall {
  row: RefreshRow;
  trigger: RefreshTrigger;
  provider: ProviderName;
  entry: CatalogueEntry;
  adapter: ProviderAdapter;
  refreshToken: string;
  attempt: {
    id: string;
    connectionId: string;
    trigger: RefreshTrigger;
    connectionVersion: number;
    refreshTokenFingerprint: string;
  };
  request: RefreshRequest;
  /**
   * The same request with the client secret a rotation replaced, while its overlap lasts: made once if the
   * provider rejects the client with the current secret.
   */
  previousSecretRequest: RefreshRequest | null;
}

/** A report built from the row as it stands (no write made by this refresher). */
export function reportFromRow(
  row: Pick<RefreshRow, 'status' | 'accessTokenExpiresAt'>,
  outcome: RefreshOutcome,
  calledProvider: boolean,
  retryAfterSeconds: number | null,
): RefreshReport {
  return {
    outcome,
    calledProvider,
    status: row.status,
    expiresAt: row.accessTokenExpiresAt,
    retryAfterSeconds,
  };
}
