import { type DynamicModule, Module } from '@nestjs/common';
import { Database, type DatabaseOptions } from './database/database';
import { ApiKeysRepository } from './repositories/api-keys.repository';
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

export const REPOSITORIES = [
  IntegrationsRepository,
  IntegrationEventsRepository,
  ConnectionsRepository,
  ApiKeysRepository,
  EventsRepository,
  DataKeysRepository,
  RefreshRepository,
  RefreshAttemptsRepository,
  RefreshScheduleRepository,
  ConnectSessionsRepository,
  ReauthDueRepository,
  AuditRepository,
  SealedValuesRepository,
] as const;

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
      ],
      exports: [Database, ...REPOSITORIES],
    };
  }
}
