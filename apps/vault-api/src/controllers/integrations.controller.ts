import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IntegrationsService } from '@vault/core';
import {
  CreateIntegrationDto,
  UpdateIntegrationDto,
  presentIntegration,
  toCreateIntegration,
  toUpdateIntegration,
} from '../dto/integration.dto';
import { RequireScope } from '@vault/core';

@ApiTags('integrations')
@ApiBearerAuth()
@Controller('v1/integrations')
export class IntegrationsController {
  constructor(@Inject(IntegrationsService) private readonly integrations: IntegrationsService) {}

  @Post()
  @RequireScope('integrations:write')
  async create(@Body() body: CreateIntegrationDto) {
    return presentIntegration(await this.integrations.create(toCreateIntegration(body)));
  }

  @Get()
  @RequireScope('connections:read')
  async list() {
    return { data: (await this.integrations.list()).map(presentIntegration), next_cursor: null };
  }

  @Get(':key')
  @RequireScope('connections:read')
  async get(@Param('key') key: string) {
    return presentIntegration(await this.integrations.get(key));
  }

  @Patch(':key')
  @RequireScope('integrations:write')
  async update(@Param('key') key: string, @Body() body: UpdateIntegrationDto) {
    return presentIntegration(await this.integrations.update(key, toUpdateIntegration(body)));
  }

  @Delete(':key')
  @HttpCode(204)
  @RequireScope('integrations:write')
  async delete(@Param('key') key: string): Promise<void> {
    await this.integrations.delete(key);
  }
}
