import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeysService } from '@vault/core';
import { CreateApiKeyDto, presentApiKey } from '../dto/api-key.dto';
import { PageQueryDto } from '../dto/connection.dto';
import { RequireScope } from '@vault/core';
import { UuidPipe } from '../http/uuid.pipe';
import { Audited } from '../http/audit.interceptor';

/** Key management: a platform `admin` key only (a tenant key never holds `admin`, see hasScope). */
@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly apiKeys: ApiKeysService) {}

  /** The key is in this answer only; it is stored hashed. */
  @Post()
  @RequireScope('admin')
  @Audited('api_key.created', (_, r) => ({ target: r?.id }))
  async create(@Body() body: CreateApiKeyDto) {
    const { key, record } = await this.apiKeys.create({
      name: body.name,
      scopes: body.scopes,
      tenantId: body.tenant_id ?? null,
    });
    return { ...presentApiKey(record), key };
  }

  @Get()
  @RequireScope('admin')
  async list(@Query() q: PageQueryDto) {
    const page = await this.apiKeys.list(q.cursor, q.limit ?? 50);
    return { data: page.data.map(presentApiKey), next_cursor: page.nextCursor };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('admin')
  @Audited('api_key.revoked', (p) => ({ target: p.id }))
  async revoke(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.apiKeys.revoke(id);
  }
}
