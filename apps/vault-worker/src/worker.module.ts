import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CoreModule, loggerParams, type VaultConfig } from '@vault/core';
import { LoggerModule } from 'nestjs-pino';
import { WorkerOpsController } from './ops.controller';
import { KeyRotationProcessor } from './processors/key-rotation.processor';
import { RefreshProcessor } from './processors/refresh.processor';
import { WebhookProcessor } from './processors/webhook.processor';
import { WorkerScheduler } from './scheduler';

/** The worker: BullMQ processors, the scheduler's timers, and its own /health and /metrics. */
@Module({})
export class WorkerModule {
  static forRoot(config: VaultConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config, 'vault-worker')),
        CoreModule.forRoot({ config, processName: 'vault-worker' }),
        ScheduleModule.forRoot(),
      ],
      controllers: [WorkerOpsController],
      providers: [RefreshProcessor, WebhookProcessor, KeyRotationProcessor, WorkerScheduler],
    };
  }
}
