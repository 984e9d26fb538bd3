import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, MetricsController } from './ops.controllers';

/** `/health/live`, `/health/ready` and `/metrics`, served by both apps. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
})
export class OpsModule {}
