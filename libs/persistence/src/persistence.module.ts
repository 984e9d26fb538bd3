import { type DynamicModule, Module } from '@nestjs/common';
import { Database, type DatabaseOptions } from './database/database';
import { ApiKeysRepository } from './repositories/api-keys.repository';
import { CONNECTION_CHANGES, type ConnectionChangeSink } from './repositories/connection-changes';
import { ConnectionsRepository } from './repositories/connections.repository';
import { ConnectSessionsRepository } from './repositories/connect-sessions.repository';
import { ReauthDueRepository } from './repositories/reauth-due.repository';
import { DataKeysRepository } from './repositories/data-keys.repository';
import { EventsRepository } from './repositories/events.repository';
import { IntegrationEventsRepository } from './repositories/integration-events.repository';
import { IntegrationsRepository } from './repositories/integrations.repository';
import { RefreshAttemptsRepository } from './repositories/refresh-attempts.repository';
import { RefreshScheduleRepository } from './repositories/refresh-schedule.repository';
import { RefreshRepository } from './repositories/refresh.repository';
import { AuditRepository } from './repositories/audit.repository';
import { SealedValuesRepository } from './repositories/sealed-values.repository';
import { DashboardRepository } from './repositories/dashboard.repository';

export const REPOSITORIES = [
  IntegrationsRepository,
  IntegrationEventsRepository,
  ApiKeysRepository,
  EventsRepository,
  DataKeysRepository,
  RefreshAttemptsRepository,
  RefreshScheduleRepository,
  ConnectSessionsRepository,
  ReauthDueRepository,
  AuditRepository,
  DashboardRepository,
] as const;

/** Repositories that write connections' token rows, built with the `ConnectionChangeSink`. */
export const CONNECTION_WRITERS = [ConnectionsRepository, RefreshRepository, SealedValuesRepository] as const;

/** The database (persistence's own pg pool, closed at shutdown) and the repositories over it. */
@Module({})
export class PersistenceModule {
  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        { provide: Database, useFactory: () => Database.connect(options) },
        ...REPOSITORIES.map((Repo) => ({
          provide: Repo,
          useFactory: (db: Database) => new Repo(db),
          inject: [Database],
        })),
        // The repositories that write a connection's token row announce it (connection-changes.ts); the sink
        // is core's, provided by the module that imports this one.
        ...CONNECTION_WRITERS.map((Repo) => ({
          provide: Repo,
          useFactory: (db: Database, changes: ConnectionChangeSink) => new Repo(db, changes),
          inject: [Database, CONNECTION_CHANGES],
        })),
      ],
      exports: [Database, ...REPOSITORIES, ...CONNECTION_WRITERS],
    };
  }
}
