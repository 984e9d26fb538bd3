import { type DynamicModule, Module } from '@nestjs/common';
import { CoreModule, OpsModule, loggerParams, type VaultConfig } from '@vault/core';
import { LoggerModule } from 'nestjs-pino';

/** The worker: no public API, only its own /health and /metrics beside the background work. */
@Module({})
export class WorkerModule {
  static forRoot(config: VaultConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config, 'vault-worker')),
        CoreModule.forRoot({ config, processName: 'vault-worker' }),
        OpsModule,
      ],
    };
  }
}
