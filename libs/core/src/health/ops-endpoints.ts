import { Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MetricsService } from '../metrics/metrics.service';
import { HealthService } from './health.service';

/**
 * `/health/live`, `/health/ready` (PostgreSQL, Redis, KMS) and `/metrics`, the same in every process. Each app
 * declares its own controller over it (`@Controller() class OpsController extends OpsEndpoints {}`), so the
 * apps own their HTTP surface and core owns what it answers.
 */
export abstract class OpsEndpoints {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Get('health/live')
  live() {
    return this.health.live();
  }

  @Get('health/ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const { status, body } = await this.health.ready();
    void reply.status(status);
    return body;
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async render(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { contentType, body } = await this.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  }
}
