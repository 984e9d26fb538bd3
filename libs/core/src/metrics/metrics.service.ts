import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CryptoMetrics } from '@vault/crypto';

/** Every Prometheus metric of docs/contract.md, "Metrics", on one registry per process. Names are a contract. */
export class MetricsService implements CryptoMetrics {
  readonly registry = new Registry();

  readonly tokenRequests = new Counter({
    name: 'vault_token_requests_total',
    help: 'Token reads on the hot path, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly tokenRequestDuration = new Histogram({
    name: 'vault_token_request_duration_seconds',
    help: 'Time to answer a token read, including any refresh it had to wait for.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly refreshTotal = new Counter({
    name: 'vault_token_refresh_total',
    help: 'Refresh attempts that called the provider, by provider, integration, trigger and outcome.',
    labelNames: ['provider', 'integration', 'trigger', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly refreshDuration = new Histogram({
    name: 'vault_token_refresh_duration_seconds',
    help: "Duration of the provider's token endpoint call.",
    labelNames: ['provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
    registers: [this.registry],
  });

  readonly unstoredRefreshes = new Gauge({
    name: 'vault_refresh_unstored_tokens',
    help: "Provider answers (possibly rotated refresh tokens) held in this process's memory because their write has not landed yet; retried until it does.",
    registers: [this.registry],
  });

  readonly previousSecretUsed = new Counter({
    name: 'vault_refresh_previous_secret_total',
    help: 'Refreshes retried with the previous client secret (rotation overlap) after the current one was rejected, by outcome.',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly refreshLag = new Histogram({
    name: 'vault_refresh_lag_seconds',
    help: 'How late a scheduled refresh ran after it was due.',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });

  readonly connections = new Gauge({
    name: 'vault_connections',
    help: 'Connections by status and provider.',
    labelNames: ['status', 'provider'] as const,
    registers: [this.registry],
  });

  /** Kept by the worker: connections whose refresh token dies within REAUTH_WARNING_DAYS. */
  readonly connectionsReauthDue = new Gauge({
    name: 'vault_connections_reauth_due',
    help: 'Connections whose refresh token dies within REAUTH_WARNING_DAYS, by provider (re-consent due).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly kmsRequests = new Counter({
    name: 'vault_kms_requests_total',
    help: 'Calls to the KMS, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly dataKeyCacheTotal = new Counter({
    name: 'vault_data_key_cache_total',
    help: 'Lookups of unwrapped data keys in the in-memory cache.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly tokenCacheTotal = new Counter({
    name: 'vault_token_cache_total',
    help: 'Token reads by what the token cache did: hit (no database read), miss, or bypass (cache off).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'vault_webhook_deliveries_total',
    help: 'Webhook deliveries, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Set by the worker's sweep when a sweep completes; 0 until then, and always 0 in the API. */
  readonly sweepLastSuccess = new Gauge({
    name: 'vault_sweep_last_success_timestamp_seconds',
    help: 'Unix time at which the scheduler sweep last completed (worker; 0 until the first sweep).',
    registers: [this.registry],
  });

  /** Audit records (aggregated reads or actions) dropped because the bounded buffer was full. */
  readonly auditRowsDropped = new Counter({
    name: 'vault_audit_rows_dropped_total',
    help: 'Audit rows dropped because the in-memory buffer was full or could not be written at shutdown.',
    registers: [this.registry],
  });

  constructor(processName: string) {
    this.registry.setDefaultLabels({ process: processName });
    collectDefaultMetrics({ register: this.registry });
  }

  kmsRequest(operation: string, outcome: 'success' | 'error'): void {
    this.kmsRequests.inc({ operation, outcome });
  }

  dataKeyCache(result: 'hit' | 'miss'): void {
    this.dataKeyCacheTotal.inc({ result });
  }

  /** Counts token cache results with the label children resolved once (the hot path runs it per read). */
  tokenCacheCounter(): (result: 'hit' | 'miss' | 'bypass') => void {
    const children = {
      hit: this.tokenCacheTotal.labels({ result: 'hit' }),
      miss: this.tokenCacheTotal.labels({ result: 'miss' }),
      bypass: this.tokenCacheTotal.labels({ result: 'bypass' }),
    };
    return (result) => children[result].inc();
  }

  sweepCompleted(): void {
    this.sweepLastSuccess.setToCurrentTime();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
