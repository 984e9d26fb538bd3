import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IntegrationsService, type Principal } from '@vault/core';
import {
  CreateIntegrationDto,
  UpdateIntegrationDto,
  presentIntegration,
  presentIntegrationEvent,
  toCreateIntegration,
  toUpdateIntegration,
} from '../dto/integration.dto';
import { PageQueryDto } from '../dto/connection.dto';
import { RequireScope } from '@vault/core';
import { Caller } from '../http/principal.decorator';
import { Audited } from '../http/audit.interceptor';

@ApiTags('integrations')
@ApiBearerAuth()
@Controller('v1/integrations')
export class IntegrationsController {
  constructor(@Inject(IntegrationsService) private readonly integrations: IntegrationsService) {}

  @Post()
  @RequireScope('integrations:write')
  @Audited('integration.created', (_, r) => ({ target: r?.key }))
  async create(@Caller() caller: Principal, @Body() body: CreateIntegrationDto) {
    return presentIntegration(await this.integrations.create(toCreateIntegration(body), caller.keyId));
  }

  @Get()
  @RequireScope('connections:read')
  async list(@Query() q: PageQueryDto) {
    const page = await this.integrations.list(q.cursor, q.limit ?? 50);
    return { data: page.data.map(presentIntegration), next_cursor: page.nextCursor };
  }

  /** Who changed what and when (creation, URLs, client ID, secret rotation, deletion); never a secret. */
  @Get(':key/events')
  @RequireScope('integrations:write')
  async events(@Param('key') key: string, @Query() q: PageQueryDto) {
    const page = await this.integrations.listEvents(key, q.cursor, q.limit ?? 50);
    return { data: page.data.map(presentIntegrationEvent), next_cursor: page.nextCursor };
  }

  @Get(':key')
  @RequireScope('connections:read')
  async get(@Param('key') key: string) {
    return presentIntegration(await this.integrations.get(key));
  }

  @Patch(':key')
  @RequireScope('integrations:write')
  @Audited('integration.updated', (p) => ({ target: p.key }))
  async update(@Caller() caller: Principal, @Param('key') key: string, @Body() body: UpdateIntegrationDto) {
    return presentIntegration(await this.integrations.update(key, toUpdateIntegration(body), caller.keyId));
  }

  @Delete(':key')
  @HttpCode(204)
  @RequireScope('integrations:write')
  @Audited('integration.deleted', (p) => ({ target: p.key }))
  async delete(@Caller() caller: Principal, @Param('key') key: string): Promise<void> {
    await this.integrations.delete(key, caller.keyId);
  }
}
