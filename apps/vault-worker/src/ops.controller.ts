import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { HealthService, MetricsService } from '@vault/core';
import type { FastifyReply } from 'fastify';

/** The worker's only HTTP: `/health/live`, `/health/ready` (PostgreSQL, Redis, KMS) and `/metrics`. */
@Controller()
export class WorkerOpsController {
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
