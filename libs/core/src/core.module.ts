import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EnvelopeCipher } from '@vault/crypto';
import {
  ApiKeysRepository,
  AuditRepository,
  ConnectionsRepository,
  DashboardRepository,
  ReauthDueRepository,
  Database,
  EventsRepository,
  IntegrationEventsRepository,
  IntegrationsRepository,
  PersistenceModule,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshScheduleRepository,
} from '@vault/persistence';
import {
  ProviderRegistry,
  createDefaultRegistry,
  createOutboundFetch,
  type OutboundFetch,
} from '@vault/providers';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuditTrail } from './audit/audit-trail';
import { AuditService } from './audit/audit.service';
import { VAULT_CONFIG, outboundPolicy, type VaultConfig } from './config/vault-config';
import { ConnectSessionsService } from './connect/connect-sessions.service';
import { ConnectionsService } from './connections/connections.service';
import { ReauthDueWatch } from './connections/reauth-due';
import { StatsService } from './connections/stats.service';
import { DataKeyRotation } from './crypto/data-key-rotation';
import { KeyRotationService } from './crypto/key-rotation.service';
import { HealthService } from './health/health.service';
import { ReadinessChecks } from './health/readiness';
import { HistoryRetention } from './history/history-retention';
import { ConnectionsGauge } from './metrics/connections-gauge';
import { IntegrationsService } from './integrations/integrations.service';
import { MetricsService } from './metrics/metrics.service';
import { RedisService } from './redis/redis.service';
import { auditProviders } from './audit/audit.providers';
import { connectionProviders } from './connections/connection.providers';
import { KMS_DRIVER, cryptoProviders } from './crypto/crypto.providers';
import { TOKEN_EXPORTS, tokenProviders } from './tokens/token.providers';
import { ON_DEMAND_REFRESHER, TokenService } from './tokens/token.service';
import { KEY_ROTATION_QUEUE, REFRESH_QUEUE, WEBHOOK_QUEUE, bullConnection, watchQueue } from './jobs/queues';
import { RefreshService } from './refresh/refresh.service';
import { SweepService } from './refresh/sweep.service';
import { WebhookNotifier } from './webhooks/webhook-notifier';

export { KMS_DRIVER } from './crypto/crypto.providers';
/** The guarded fetch of the outbound URL rules (provider calls and webhooks share its connection pools). */
export const OUTBOUND_FETCH = Symbol('OUTBOUND_FETCH');

const BULL_REDIS = Symbol('BULL_REDIS');

/** Closes both Redis connections once the queues and workers (deeper modules, closed first) are done. */
class RedisCloser implements OnApplicationShutdown {
  constructor(
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(BULL_REDIS) private readonly bull: Redis,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.close();
    if (this.bull.status === 'wait')
      this.bull.disconnect(); // never used: nothing to flush
    else await this.bull.quit().catch(() => this.bull.disconnect());
  }
}

/**
 * The domain wired for Nest: configuration, metrics, envelope encryption, providers, Redis and the services.
 * Services are plain classes built by factories, so they stay testable without Nest.
 */
@Module({})
export class CoreModule {
  /** `tokenCache`: this process serves tokens (the API): it keeps the token cache, live while subscribed. */
  static forRoot(options: { config: VaultConfig; processName: string; tokenCache?: boolean }): DynamicModule {
    const { config } = options;
    const queues = BullModule.registerQueue(
      { name: REFRESH_QUEUE },
      { name: WEBHOOK_QUEUE },
      { name: KEY_ROTATION_QUEUE },
    );
    const bullRedis = bullConnection(config.REDIS_URL);
    return {
      module: CoreModule,
      global: true,
      imports: [
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          poolSize: config.DATABASE_POOL_SIZE,
          connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
          applicationName: `credential-vault/${options.processName}`,
        }),
        BullModule.forRoot({
          connection: bullRedis,
          prefix: `${config.REDIS_PREFIX}:bull`,
        }),
        queues,
        TerminusModule.forRoot({ logger: false }),
      ],
      providers: [
        { provide: VAULT_CONFIG, useValue: config },
        { provide: MetricsService, useFactory: () => new MetricsService(options.processName) },
        { provide: OUTBOUND_FETCH, useFactory: () => createOutboundFetch(outboundPolicy(config)) },
        {
          provide: ProviderRegistry,
          useFactory: (fetch: OutboundFetch) =>
            createDefaultRegistry({ policy: outboundPolicy(config), fetch }),
          inject: [OUTBOUND_FETCH],
        },
        {
          provide: RedisService,
          useFactory: () =>
            new RedisService(config.REDIS_URL, config.REDIS_PREFIX, config.REDIS_COMMAND_TIMEOUT_MS),
        },
        { provide: BULL_REDIS, useValue: bullRedis },
        RedisCloser,
        ...cryptoProviders(config),
        ...connectionProviders(config),
        ...auditProviders(config),
        ...tokenProviders(config, { tokenCache: options.tokenCache === true }),
        {
          provide: ReadinessChecks,
          useFactory: (db: Database, redis: RedisService, cipher: EnvelopeCipher) =>
            new ReadinessChecks(db, redis, cipher),
          inject: [Database, RedisService, EnvelopeCipher],
        },
        {
          provide: ApiKeysService,
          useFactory: (repo: ApiKeysRepository) => new ApiKeysService(repo),
          inject: [ApiKeysRepository],
        },
        {
          provide: IntegrationsService,
          useFactory: (
            repo: IntegrationsRepository,
            cipher: EnvelopeCipher,
            db: Database,
            events: IntegrationEventsRepository,
          ) => new IntegrationsService(repo, cipher, db, events, outboundPolicy(config)),
          inject: [IntegrationsRepository, EnvelopeCipher, Database, IntegrationEventsRepository],
        },
        {
          provide: RefreshService,
          useFactory: (
            repo: RefreshRepository,
            attempts: RefreshAttemptsRepository,
            schedule: RefreshScheduleRepository,
            integrations: IntegrationsRepository,
            connections: ConnectionsRepository,
            cipher: EnvelopeCipher,
            providers: ProviderRegistry,
            redis: RedisService,
            metrics: MetricsService,
            webhooks: WebhookNotifier,
          ) =>
            new RefreshService(
              repo,
              attempts,
              schedule,
              integrations,
              connections,
              cipher,
              providers,
              redis,
              metrics,
              config,
              webhooks,
            ),
          inject: [
            RefreshRepository,
            RefreshAttemptsRepository,
            RefreshScheduleRepository,
            IntegrationsRepository,
            ConnectionsRepository,
            EnvelopeCipher,
            ProviderRegistry,
            RedisService,
            MetricsService,
            WebhookNotifier,
          ],
        },
        { provide: ON_DEMAND_REFRESHER, useExisting: RefreshService },
        {
          provide: StatsService,
          useFactory: (c: ConnectionsRepository, e: EventsRepository, d: DashboardRepository) =>
            new StatsService(c, e, d),
          inject: [ConnectionsRepository, EventsRepository, DashboardRepository],
        },
        {
          provide: HealthService,
          useFactory: (h: HealthCheckService, i: HealthIndicatorService, checks: ReadinessChecks) =>
            new HealthService(h, i, checks),
          inject: [HealthCheckService, HealthIndicatorService, ReadinessChecks],
        },
        {
          provide: SweepService,
          useFactory: (repo: RefreshScheduleRepository, queue: Queue, metrics: MetricsService) =>
            new SweepService(repo, watchQueue(queue), config, metrics),
          inject: [RefreshScheduleRepository, getQueueToken(REFRESH_QUEUE), MetricsService],
        },
        {
          provide: HistoryRetention,
          useFactory: (events: EventsRepository, audit: AuditRepository) =>
            new HistoryRetention(events, config, audit),
          inject: [EventsRepository, AuditRepository],
        },
        {
          provide: ConnectionsGauge,
          useFactory: (c: ConnectionsRepository, m: MetricsService) => new ConnectionsGauge(c, m),
          inject: [ConnectionsRepository, MetricsService],
        },
        {
          provide: ReauthDueWatch,
          useFactory: (r: ReauthDueRepository, w: WebhookNotifier, m: MetricsService) =>
            new ReauthDueWatch(r, w, m, config),
          inject: [ReauthDueRepository, WebhookNotifier, MetricsService],
        },
      ],
      exports: [
        VAULT_CONFIG,
        ...TOKEN_EXPORTS,
        HealthService,
        SweepService,
        HistoryRetention,
        AuditTrail,
        AuditService,
        ConnectionsGauge,
        ReauthDueWatch,
        DataKeyRotation,
        KeyRotationService,
        MetricsService,
        KMS_DRIVER,
        OUTBOUND_FETCH,
        EnvelopeCipher,
        ProviderRegistry,
        RedisService,
        ReadinessChecks,
        ApiKeysService,
        IntegrationsService,
        ConnectionsService,
        ConnectSessionsService,
        TokenService,
        StatsService,
        RefreshService,
        WebhookNotifier,
        queues,
      ],
    };
  }
}
