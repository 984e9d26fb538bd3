import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { StatsService, type Principal } from '@vault/core';
import { RequireScope } from '@vault/core';
import {
  BrokenQueryDto,
  OutcomesQueryDto,
  ReauthDueQueryDto,
  StatsQueryDto,
  filterOf,
  presentBroken,
  presentReauthDue,
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

  /**
   * Counts by status × integration, broken connections by integration and reason, connections whose refresh
   * token dies soon, rejected integrations.
   */
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

  /** Connections whose refresh token dies soon (`reauth_due_at` set), the soonest first, paginated. */
  @Get('reauth-due')
  @RequireScope('connections:read')
  async reauthDue(@Caller() caller: Principal, @Query() q: ReauthDueQueryDto) {
    const before = q.before === undefined ? undefined : new Date(q.before);
    const page = await this.stats.reauthDue(caller, { ...filterOf(q), before }, q.cursor, q.limit ?? 50);
    return { data: page.data.map(presentReauthDue), next_cursor: page.nextCursor };
  }

  /** Finished refresh attempts per hour and outcome over the last `hours` (default 24). */
  @Get('refresh-outcomes')
  @RequireScope('connections:read')
  async outcomes(@Caller() caller: Principal, @Query() q: OutcomesQueryDto) {
    return presentSeries(await this.stats.refreshOutcomes(caller, filterOf(q), q.hours ?? 24));
  }
}
