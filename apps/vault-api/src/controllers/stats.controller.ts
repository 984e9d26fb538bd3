import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { StatsService, type Principal } from '@vault/core';
import { RequireScope } from '@vault/core';
import {
  BrokenQueryDto,
  OutcomesQueryDto,
  StatsQueryDto,
  filterOf,
  presentBroken,
  presentSeries,
  presentStats,
} from '../dto/stats.dto';
import { Caller } from '../http/principal.decorator';

/** What dashboards (and the built-in /dashboard page) read; a tenant key sees its tenant only. */
@ApiTags('stats')
@ApiBearerAuth()
@Controller('v1/stats')
export class StatsController {
  constructor(@Inject(StatsService) private readonly stats: StatsService) {}

  /** Counts by status × integration, broken connections by integration and reason, rejected integrations. */
  @Get()
  @RequireScope('connections:read')
  async get(@Caller() caller: Principal, @Query() q: StatsQueryDto) {
    return presentStats(await this.stats.stats(caller, filterOf(q)));
  }

  /** Broken connections (needs_reauth, refresh_failing), the most recent first failure first, paginated. */
  @Get('broken')
  @RequireScope('connections:read')
  async broken(@Caller() caller: Principal, @Query() q: BrokenQueryDto) {
    const page = await this.stats.broken(
      caller,
      { ...filterOf(q), reason: q.reason },
      q.cursor,
      q.limit ?? 50,
    );
    return { data: page.data.map(presentBroken), next_cursor: page.nextCursor };
  }

  /** Finished refresh attempts per hour and outcome over the last `hours` (default 24). */
  @Get('refresh-outcomes')
  @RequireScope('connections:read')
  async outcomes(@Caller() caller: Principal, @Query() q: OutcomesQueryDto) {
    return presentSeries(await this.stats.refreshOutcomes(caller, filterOf(q), q.hours ?? 24));
  }
}
