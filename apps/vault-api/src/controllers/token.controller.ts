import { Controller, Get, Header, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { MetricsService, TokenService, VaultError, type Principal } from '@vault/core';
import { TokenQueryDto } from '../dto/connection.dto';
import { RequireScope } from '@vault/core';
import { Caller } from '../http/principal.decorator';
import { UuidPipe } from '../http/uuid.pipe';

/** The hot path: a valid access token by connection ID. */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('v1/connections')
export class TokenController {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Get(':id/token')
  @RequireScope('tokens:read')
  @Header('cache-control', 'no-store')
  async token(@Caller() caller: Principal, @Param('id', UuidPipe) id: string, @Query() q: TokenQueryDto) {
    const end = this.metrics.tokenRequestDuration.startTimer();
    try {
      const t = await this.tokens.getToken(caller, id, q.min_ttl ?? 60);
      this.metrics.tokenRequests.inc({ outcome: 'success' });
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
