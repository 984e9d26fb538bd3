import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CONNECTION_STATUSES,
  PROVIDER_NAMES,
  type ConnectionLastError,
  type ConnectionStatus,
  type ConnectionView,
  type GrantInput,
  type ImportGrantInput,
} from '@vault/core';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const TEN_YEARS = 10 * 365 * 24 * 3600;

export class GrantDto {
  @ApiProperty({ writeOnly: true, description: 'Stored sealed; never returned.' })
  @IsString()
  @Length(1, 16384)
  refresh_token: string;

  @ApiPropertyOptional({ writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(1, 16384)
  access_token?: string;

  @ApiPropertyOptional({ description: 'Seconds the access token is valid from now.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(TEN_YEARS)
  expires_in?: number;

  @ApiPropertyOptional({ description: 'ISO 8601 expiry of the access token.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(512, { each: true })
  scopes?: string[];

  @ApiPropertyOptional({ default: 'Bearer' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  token_type?: string;
}

export class ImportConnectionDto extends GrantDto {
  @ApiProperty({ description: 'The integration key.' })
  @IsString()
  @Length(1, 63)
  integration: string;

  @ApiProperty()
  @IsString()
  @Length(1, 200)
  tenant_id: string;

  @ApiPropertyOptional({ description: 'Unique per (integration, tenant_id) when given.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  external_id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  end_user_id?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ListConnectionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: CONNECTION_STATUSES })
  @IsOptional()
  @IsIn(CONNECTION_STATUSES)
  status?: ConnectionStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 63)
  integration?: string;

  @ApiPropertyOptional({ enum: PROVIDER_NAMES })
  @IsOptional()
  @IsIn(PROVIDER_NAMES)
  provider?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant_id?: string;
}

export function toGrant(d: GrantDto): GrantInput {
  return {
    refreshToken: d.refresh_token,
    accessToken: d.access_token,
    expiresIn: d.expires_in,
    expiresAt: d.expires_at === undefined ? undefined : new Date(d.expires_at),
    scopes: d.scopes,
    tokenType: d.token_type,
  };
}

export function toImport(d: ImportConnectionDto): ImportGrantInput {
  return {
    ...toGrant(d),
    integration: d.integration,
    tenantId: d.tenant_id,
    externalId: d.external_id,
    endUserId: d.end_user_id,
    metadata: d.metadata,
  };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The failure's shape only, whatever an older row may hold (rows once kept a provider's description). */
export function presentLastError(e: ConnectionLastError | null) {
  if (!e) return null;
  return {
    class: e.class,
    code: e.code,
    http_status: e.http_status,
    ...(e.sub_code !== undefined ? { sub_code: e.sub_code } : {}),
    at: e.at,
  };
}

/** Metadata only: never a secret. */
export function presentConnection(c: ConnectionView) {
  return {
    id: c.id,
    integration: c.integrationKey,
    provider: c.provider,
    tenant_id: c.tenantId,
    external_id: c.externalId,
    end_user_id: c.endUserId,
    status: c.status,
    status_reason: c.statusReason,
    scopes: c.scopes,
    token_type: c.tokenType,
    access_token_expires_at: iso(c.accessTokenExpiresAt),
    refresh_token_expires_at: iso(c.refreshTokenExpiresAt),
    reauth_due_at: iso(c.reauthDueAt),
    next_refresh_at: iso(c.nextRefreshAt),
    last_refreshed_at: iso(c.lastRefreshedAt),
    refresh_failures: c.refreshFailures,
    last_error: presentLastError(c.lastError),
    metadata: c.metadata,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
