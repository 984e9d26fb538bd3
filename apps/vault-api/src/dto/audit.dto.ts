import { ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditRecord } from '@vault/core';
import { IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from './connection.dto';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only rows about this connection.' })
  @IsOptional()
  @IsUUID()
  connection_id?: string;

  @ApiPropertyOptional({ description: 'Only rows of this API key.' })
  @IsOptional()
  @IsUUID()
  api_key_id?: string;

  @ApiPropertyOptional({ description: 'ISO 8601: only rows with activity at or after this time.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;
}

export function presentAuditRecord(r: AuditRecord) {
  return {
    id: r.id,
    action: r.action,
    api_key_id: r.apiKeyId,
    connection_id: r.connectionId,
    target: r.target,
    count: r.count,
    first_at: r.firstAt.toISOString(),
    last_at: r.lastAt.toISOString(),
    created_at: r.createdAt.toISOString(),
  };
}
