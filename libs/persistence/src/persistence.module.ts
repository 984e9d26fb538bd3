import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';
import { ApiKeysRepository } from './repositories/api-keys.repository';
import { ConnectionsRepository } from './repositories/connections.repository';
import { DataKeysRepository } from './repositories/data-keys.repository';
import { EventsRepository } from './repositories/events.repository';
import { IntegrationEventsRepository } from './repositories/integration-events.repository';
import { IntegrationsRepository } from './repositories/integrations.repository';
import { RefreshRepository } from './repositories/refresh.repository';

const REPOSITORIES = [
  IntegrationsRepository,
  IntegrationEventsRepository,
  ConnectionsRepository,
  ApiKeysRepository,
  EventsRepository,
  DataKeysRepository,
  RefreshRepository,
] as const;

/** TypeORM over PostgreSQL and the repositories: the only code that touches TypeORM. */
@Module({})
export class PersistenceModule {
  static forRoot(options: { databaseUrl: string; poolSize?: number }): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [TypeOrmModule.forRoot(dataSourceOptions(options.databaseUrl, options.poolSize))],
      providers: REPOSITORIES.map((Repo) => ({
        provide: Repo,
        useFactory: (ds: DataSource) => new Repo(ds),
        inject: [DataSource],
      })),
      exports: [...REPOSITORIES],
    };
  }
}
