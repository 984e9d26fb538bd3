import { type DynamicModule, Module } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { ScheduleModule } from '@nestjs/schedule';
import {
  CoreModule,
  MetricsService,
  OpsModule,
  REFRESH_QUEUE,
  SweepService,
  loggerParams,
  type RefreshJobSink,
  type VaultConfig,
} from '@vault/core';
import { RefreshScheduleRepository } from '@vault/persistence';
import { LoggerModule } from 'nestjs-pino';
import { RefreshProcessor } from './processors/refresh.processor';
import { WebhookProcessor } from './processors/webhook.processor';
import { WorkerScheduler } from './scheduler';

/** The worker: BullMQ processors, the scheduler sweep, and its own /health and /metrics. */
@Module({})
export class WorkerModule {
  static forRoot(config: VaultConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config, 'vault-worker')),
        CoreModule.forRoot({ config, processName: 'vault-worker' }),
        ScheduleModule.forRoot(),
        OpsModule,
      ],
      providers: [
        {
          provide: SweepService,
          useFactory: (repo: RefreshScheduleRepository, queue: RefreshJobSink, metrics: MetricsService) =>
            new SweepService(repo, queue, config, metrics),
          inject: [RefreshScheduleRepository, getQueueToken(REFRESH_QUEUE), MetricsService],
        },
        RefreshProcessor,
        WebhookProcessor,
        WorkerScheduler,
      ],
    };
  }
}
