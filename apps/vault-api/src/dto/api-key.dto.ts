import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_KEY_SCOPES, type ApiKeyEntity, type ApiKeyScope } from '@vault/core';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    isArray: true,
    description:
      'A key with a tenant_id may hold only tokens:read, connections:read and connections:write; ' +
      'admin and integrations:write are platform powers.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes: ApiKeyScope[];

  @ApiPropertyOptional({ description: 'Limit the key to one tenant.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant_id?: string;
}

export function presentApiKey(k: ApiKeyEntity) {
  return {
    id: k.id,
    name: k.name,
    key_prefix: k.keyPrefix,
    scopes: k.scopes,
    tenant_id: k.tenantId,
    created_at: k.createdAt.toISOString(),
    revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
    /** Stored by an earlier version (no vk_ checksum): still accepted; re-issue and revoke it. */
    legacy_format: k.legacyFormat,
  };
}
