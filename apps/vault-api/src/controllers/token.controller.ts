import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Param,
  type PipeTransform,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuditTrail, MetricsService, TokenService, VaultError, type Principal } from '@vault/core';
import { RequireScope } from '@vault/core';
import { Caller } from '../http/principal.decorator';
import { UuidPipe } from '../http/uuid.pipe';

/** `min_ttl`: an integer of seconds, 0..86400, default 60; parsed by hand to keep the hot path lean. */
@Injectable()
export class MinTtlPipe implements PipeTransform<string | undefined, number> {
  transform(value: string | undefined): number {
    if (value === undefined || value === '') return 60;
    if (!/^\d{1,5}$/.test(value) || Number(value) > 86400) {
      throw VaultError.validation('min_ttl', 'must be an integer number of seconds from 0 to 86400');
    }
    return Number(value);
  }
}

/** The hot path: a valid access token by connection ID. */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('v1/connections')
export class TokenController {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {
    this.successes = metrics.tokenRequests.labels({ outcome: 'success' });
  }

  private readonly successes: { inc(): void };

  @Get(':id/token')
  @RequireScope('tokens:read')
  @Header('cache-control', 'no-store')
  @ApiQuery({
    name: 'min_ttl',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 86400, default: 60 },
    description: 'The token must stay valid at least this many seconds.',
  })
  async token(
    @Caller() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Query('min_ttl', MinTtlPipe) minTtl: number,
  ) {
    const end = this.metrics.tokenRequestDuration.startTimer();
    try {
      const t = await this.tokens.getToken(caller, id, minTtl);
      this.successes.inc();
      // Aggregated in memory, written in batches: no I/O here.
      this.audit.tokenRead(caller.keyId, t.connectionId);
      return {
        connection_id: t.connectionId,
        access_token: t.accessToken,
        token_type: t.tokenType,
        expires_at: t.expiresAt.toISOString(),
        scopes: t.scopes,
      };
    } catch (err) {
      this.metrics.tokenRequests.inc({ outcome: err instanceof VaultError ? err.code : 'internal_error' });
      throw err;
    } finally {
      end();
    }
  }
}
