import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  PROVIDER_NAMES,
  type ClientAuthMethod,
  type CreateIntegrationInput,
  type IntegrationEntity,
  type IntegrationEvent,
  type ProviderName,
  type UpdateIntegrationInput,
} from '@vault/core';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  IsISO8601,
} from 'class-validator';
import { OptionalStringList } from './string-list';

const CLIENT_AUTH = ['client_secret_post', 'client_secret_basic'] as const;
const URL_OPTIONS = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };

/** Connect-session settings, the same on creation and change. */
class ConnectSettingsDto {
  @ApiPropertyOptional({
    type: [String],
    description:
      'Where a connect session may send the end user back to: return_url must fall under one of these (same origin, path at a / boundary).',
  })
  @OptionalStringList(50, 2048)
  allowed_return_urls?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'Extra authorize-URL parameters (e.g. Auth0 { audience }); not the ones the vault sets (state, scope, redirect_uri, ...). Never a secret.',
  })
  @IsOptional()
  @IsObject()
  authorize_params?: Record<string, string>;
}

export class CreateIntegrationDto extends ConnectSettingsDto {
  @ApiProperty({
    example: 'slack-prod',
    description: 'Unique key the platform uses to name this integration.',
  })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
    message: 'must be 1-63 lowercase letters, digits, dot, dash or underscore',
  })
  key: string;

  @ApiProperty({ enum: PROVIDER_NAMES })
  @IsIn(PROVIDER_NAMES)
  provider: ProviderName;

  @ApiProperty()
  @IsString()
  @Length(1, 512)
  client_id: string;

  @ApiProperty({ writeOnly: true, description: 'Stored sealed; never returned.' })
  @IsString()
  @Length(1, 4096)
  client_secret: string;

  @ApiPropertyOptional({ description: "Overrides the provider's token endpoint." })
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  token_url?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  authorize_url?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  revoke_url?: string;

  @ApiPropertyOptional({ type: [String] })
  @OptionalStringList(200, 512)
  scopes?: string[];

  @ApiPropertyOptional({ enum: CLIENT_AUTH })
  @IsOptional()
  @IsIn(CLIENT_AUTH)
  client_auth?: ClientAuthMethod;

  @ApiPropertyOptional({
    description: 'Refresh this many seconds before expiry (default REFRESH_MARGIN_SECONDS).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86400)
  refresh_margin_seconds?: number;

  @ApiPropertyOptional({
    description: "Timeout of the provider's token endpoint call, in ms (default 30000).",
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(120000)
  request_timeout_ms?: number;
}

export class UpdateIntegrationDto extends ConnectSettingsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 512)
  client_id?: string;

  @ApiPropertyOptional({
    writeOnly: true,
    description:
      'Rotates the client secret; clears credentials_rejected. Required when token_url or revoke_url changes.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  client_secret?: string;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  token_url?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  authorize_url?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  revoke_url?: string | null;

  @ApiPropertyOptional({ type: [String] })
  @OptionalStringList(200, 512)
  scopes?: string[];

  @ApiPropertyOptional({ enum: CLIENT_AUTH })
  @IsOptional()
  @IsIn(CLIENT_AUTH)
  client_auth?: ClientAuthMethod;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(86400)
  refresh_margin_seconds?: number | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(100)
  @Max(120000)
  request_timeout_ms?: number | null;

  @ApiPropertyOptional({
    description:
      'With client_secret: until this time (ISO 8601, at most 90 days ahead) a refresh whose client the provider ' +
      'rejects with the new secret is retried once with the previous one (rotation with an overlap).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  previous_secret_valid_until?: string;
}

export function toCreateIntegration(d: CreateIntegrationDto): CreateIntegrationInput {
  return {
    key: d.key,
    provider: d.provider,
    clientId: d.client_id,
    clientSecret: d.client_secret,
    tokenUrl: d.token_url,
    authorizeUrl: d.authorize_url,
    revokeUrl: d.revoke_url,
    scopes: d.scopes,
    clientAuth: d.client_auth,
    refreshMarginSeconds: d.refresh_margin_seconds,
    requestTimeoutMs: d.request_timeout_ms,
    allowedReturnUrls: d.allowed_return_urls,
    authorizeParams: d.authorize_params,
  };
}

export function toUpdateIntegration(d: UpdateIntegrationDto): UpdateIntegrationInput {
  return {
    clientId: d.client_id,
    clientSecret: d.client_secret,
    tokenUrl: d.token_url,
    authorizeUrl: d.authorize_url,
    revokeUrl: d.revoke_url,
    scopes: d.scopes,
    clientAuth: d.client_auth,
    refreshMarginSeconds: d.refresh_margin_seconds,
    requestTimeoutMs: d.request_timeout_ms,
    allowedReturnUrls: d.allowed_return_urls,
    authorizeParams: d.authorize_params,
    previousSecretValidUntil:
      d.previous_secret_valid_until === undefined ? undefined : new Date(d.previous_secret_valid_until),
  };
}

/** The answer shape: never the secret. */
export function presentIntegration(i: IntegrationEntity) {
  return {
    key: i.key,
    id: i.id,
    provider: i.provider,
    client_id: i.clientId,
    token_url: i.tokenUrl,
    authorize_url: i.authorizeUrl,
    revoke_url: i.revokeUrl,
    scopes: i.scopes,
    client_auth: i.clientAuth,
    refresh_margin_seconds: i.refreshMarginSeconds,
    request_timeout_ms: i.requestTimeoutMs,
    allowed_return_urls: i.allowedReturnUrls,
    authorize_params: i.authorizeParams,
    status: i.status,
    status_reason: i.statusReason,
    /** Until then the secret replaced by the last rotation is still tried (never the secret itself). */
    previous_secret_valid_until: i.previousSecretValidUntil ? i.previousSecretValidUntil.toISOString() : null,
    created_at: i.createdAt.toISOString(),
    updated_at: i.updatedAt.toISOString(),
  };
}

export function presentIntegrationEvent(e: IntegrationEvent) {
  return {
    id: e.id,
    type: e.type,
    integration_id: e.integrationId,
    actor_key_id: e.actorKeyId,
    changes: e.changes,
    created_at: e.createdAt.toISOString(),
  };
}
