import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StartConnectSession } from '@vault/core';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { OptionalStringList } from './string-list';

export class StartConnectSessionDto {
  @ApiProperty({ example: 'google-prod', description: 'The integration (its key) to connect through.' })
  @IsString()
  @Length(1, 63)
  integration: string;

  @ApiProperty({ example: 'acme' })
  @IsString()
  @Length(1, 256)
  tenant_id: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Re-consent this connection in place (same ID) instead of creating one.',
  })
  @IsOptional()
  @IsUUID()
  connection_id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 256)
  end_user_id?: string;

  @ApiProperty({
    example: 'https://app.example.com/oauth/done',
    description: "Where the browser goes afterwards; must fall under the integration's allowed_return_urls.",
  })
  @IsString()
  @Length(1, 2048)
  return_url: string;

  @ApiPropertyOptional({ type: [String], description: "Default: the integration's scopes." })
  @OptionalStringList(200, 512)
  scopes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Slack only: user-token scopes (its user_scope).' })
  @OptionalStringList(200, 512)
  user_scopes?: string[];
}

export function toStartConnectSession(d: StartConnectSessionDto): StartConnectSession {
  return {
    integration: d.integration,
    tenantId: d.tenant_id,
    connectionId: d.connection_id,
    endUserId: d.end_user_id,
    returnUrl: d.return_url,
    scopes: d.scopes,
    userScopes: d.user_scopes,
  };
}
