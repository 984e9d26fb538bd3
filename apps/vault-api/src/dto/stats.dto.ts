import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import type {
  BrokenConnection,
  BrokenGroup,
  ConnectionStatus,
  OutcomeSeries,
  ReauthDueConnection,
  VaultStats,
} from '@vault/core';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ListConnectionsQueryDto, presentLastError } from './connection.dto';

const BROKEN_STATUSES: ConnectionStatus[] = ['needs_reauth', 'refresh_failing'];

/** Filters of the dashboard's reads (a tenant key is limited to its tenant whatever it asks). */
export class StatsQueryDto extends PickType(ListConnectionsQueryDto, [
  'tenant_id',
  'integration',
  'provider',
]) {}

export class BrokenQueryDto extends ListConnectionsQueryDto {
  @ApiPropertyOptional({ enum: BROKEN_STATUSES })
  @IsOptional()
  @IsIn(BROKEN_STATUSES)
  declare status?: ConnectionStatus;

  @ApiPropertyOptional({ description: 'The status reason, e.g. invalid_grant.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reason?: string;
}

export class ReauthDueQueryDto extends PickType(ListConnectionsQueryDto, [
  'tenant_id',
  'integration',
  'provider',
  'cursor',
  'limit',
]) {
  @ApiPropertyOptional({
    description: 'ISO 8601: only the connections whose refresh token dies before this time.',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  before?: string;
}

export class OutcomesQueryDto extends StatsQueryDto {
  @ApiPropertyOptional({
    default: 24,
    minimum: 1,
    maximum: 168,
    description: 'Hours back, the current one last.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(168)
  hours?: number;
}

export function filterOf(q: StatsQueryDto & { status?: ConnectionStatus }) {
  return { tenantId: q.tenant_id, integrationKey: q.integration, provider: q.provider, status: q.status };
}

function presentGroup(g: BrokenGroup) {
  return {
    integration: g.integrationKey,
    provider: g.provider,
    status: g.status,
    reason: g.reason,
    count: g.count,
    oldest_failure_at: g.oldestFailure.toISOString(),
  };
}

export function presentStats(s: VaultStats) {
  return {
    connections: s.connections,
    totals: s.totals,
    failures_last_hour: s.failuresLastHour,
    broken: s.broken.map(presentGroup),
    reauth_due: s.reauthDue,
    rejected_integrations: s.rejectedIntegrations.map((i) => ({
      key: i.key,
      provider: i.provider,
      status_reason: i.statusReason,
      since: i.updatedAt.toISOString(),
    })),
  };
}

export function presentBroken(c: BrokenConnection) {
  return {
    id: c.id,
    tenant_id: c.tenantId,
    integration: c.integrationKey,
    provider: c.provider,
    status: c.status,
    status_reason: c.statusReason,
    failing_since: c.failingSince.toISOString(),
    refresh_failures: c.refreshFailures,
    last_error: presentLastError(c.lastError),
    events: `/v1/connections/${c.id}/events`,
  };
}

/** Metadata only: never a secret. */
export function presentReauthDue(c: ReauthDueConnection) {
  return {
    id: c.id,
    tenant_id: c.tenantId,
    integration: c.integrationKey,
    provider: c.provider,
    status: c.status,
    reauth_due_at: c.reauthDueAt.toISOString(),
    events: `/v1/connections/${c.id}/events`,
  };
}

export function presentSeries(s: OutcomeSeries) {
  return {
    from: s.from.toISOString(),
    to: s.to.toISOString(),
    bucket_seconds: s.bucketSeconds,
    outcomes: s.outcomes,
    buckets: s.buckets.map((b) => ({ at: b.at.toISOString(), counts: b.counts })),
  };
}
