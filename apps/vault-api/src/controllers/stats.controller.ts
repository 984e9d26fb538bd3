import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { StatsService, type Principal } from '@vault/core';
import { RequireScope } from '@vault/core';
import { Caller } from '../http/principal.decorator';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('v1/stats')
export class StatsController {
  constructor(@Inject(StatsService) private readonly stats: StatsService) {}

  @Get()
  @RequireScope('connections:read')
  async get(@Caller() caller: Principal) {
    const s = await this.stats.stats(caller);
    return { connections: s.connections, totals: s.totals, failures_last_hour: s.failuresLastHour };
  }
}
