import { Controller, Get, Header, HttpCode, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators';
import { ReadinessChecks, type DependencyName } from '../health/readiness';
import { MetricsService } from '../metrics/metrics.service';

/** Liveness (the process answers) and readiness (PostgreSQL, Redis and the KMS answer). */
@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ReadinessChecks) private readonly checks: ReadinessChecks,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult | object> {
    const deps: DependencyName[] = ['postgres', 'redis', 'kms'];
    try {
      return await this.health.check(deps.map((name) => () => this.indicate(name)));
    } catch (err) {
      if (err instanceof ServiceUnavailableException) {
        void reply.status(503);
        return err.getResponse() as object;
      }
      throw err;
    }
  }

  private async indicate(name: DependencyName) {
    const indicator = this.indicators.check(name);
    try {
      await this.checks.check(name);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message.slice(0, 200) : 'failed' });
    }
  }
}

@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get()
  @Header('cache-control', 'no-store')
  async render(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { contentType, body } = await this.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  }
}
