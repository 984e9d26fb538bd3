import { ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { DependencyName, ReadinessChecks } from './readiness';

export interface ReadinessAnswer {
  status: 200 | 503;
  /** terminus's `{ status, info, error, details }`, one entry per dependency. */
  body: HealthCheckResult | object;
}

const DEPENDENCIES: DependencyName[] = ['postgres', 'redis', 'kms'];

/** Liveness (the process answers) and readiness (PostgreSQL, Redis and the KMS answer), for both apps' /health. */
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly checks: ReadinessChecks,
  ) {}

  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async ready(): Promise<ReadinessAnswer> {
    try {
      return {
        status: 200,
        body: await this.health.check(DEPENDENCIES.map((name) => () => this.indicate(name))),
      };
    } catch (err) {
      if (err instanceof ServiceUnavailableException)
        return { status: 503, body: err.getResponse() as object };
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
