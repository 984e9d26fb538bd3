import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CoreModule, loggerParams, type VaultConfig } from '@vault/core';
import { LoggerModule } from 'nestjs-pino';
import { ApiKeysController } from './controllers/api-keys.controller';
import { ConnectController } from './controllers/connect.controller';
import { ConnectionsController } from './controllers/connections.controller';
import { IntegrationsController } from './controllers/integrations.controller';
import { KeyRotationController } from './controllers/key-rotation.controller';
import { OpsController } from './controllers/ops.controller';
import { StatsController } from './controllers/stats.controller';
import { AuditController } from './controllers/audit.controller';
import { DashboardController } from './controllers/dashboard.controller';
import { TokenRoute } from './controllers/token.route';
import { ApiKeyGuard } from './http/auth.guard';
import { VaultErrorFilter } from './http/error.filter';
import { BootstrapKey } from './bootstrap-key';
import { AuditFinalFlush } from './audit-final-flush';

@Module({})
export class ApiModule {
  static forRoot(config: VaultConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config, 'vault-api')),
        CoreModule.forRoot({ config, processName: 'vault-api', tokenCache: true }),
      ],
      // The token read (TokenRoute) is registered on Fastify directly by createApiApp.
      controllers: [
        IntegrationsController,
        ConnectionsController,
        ConnectController,
        ApiKeysController,
        KeyRotationController,
        StatsController,
        AuditController,
        DashboardController,
        OpsController,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: VaultErrorFilter },
        TokenRoute,
        BootstrapKey,
        AuditFinalFlush,
      ],
    };
  }
}
