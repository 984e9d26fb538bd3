import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ConnectionsService, RefreshService, type Principal } from '@vault/core';
import {
  GrantDto,
  ImportConnectionDto,
  ListConnectionsQueryDto,
  PageQueryDto,
  presentConnection,
  toGrant,
  toImport,
} from '../dto/connection.dto';
import { RequireScope } from '@vault/core';
import { Caller } from '../http/principal.decorator';
import { UuidPipe } from '../http/uuid.pipe';
import { Audited } from '../http/audit.interceptor';

@ApiTags('connections')
@ApiBearerAuth()
@Controller('v1/connections')
export class ConnectionsController {
  constructor(
    @Inject(ConnectionsService) private readonly connections: ConnectionsService,
    @Inject(RefreshService) private readonly refresher: RefreshService,
  ) {}

  @Post()
  @RequireScope('connections:write')
  @Audited('connection.imported', (_, r) => ({ connectionId: r?.id }))
  async import(@Caller() caller: Principal, @Body() body: ImportConnectionDto) {
    return presentConnection(await this.connections.importGrant(caller, toImport(body)));
  }

  @Get()
  @RequireScope('connections:read')
  async list(@Caller() caller: Principal, @Query() q: ListConnectionsQueryDto) {
    const page = await this.connections.list(
      caller,
      { status: q.status, integration: q.integration, provider: q.provider, tenantId: q.tenant_id },
      q.cursor,
      q.limit ?? 50,
    );
    return { data: page.data.map(presentConnection), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @RequireScope('connections:read')
  async get(@Caller() caller: Principal, @Param('id', UuidPipe) id: string) {
    return presentConnection(await this.connections.get(caller, id));
  }

  @Get(':id/events')
  @RequireScope('connections:read')
  async events(@Caller() caller: Principal, @Param('id', UuidPipe) id: string, @Query() q: PageQueryDto) {
    const page = await this.connections.listEvents(caller, id, q.cursor, q.limit ?? 50);
    return {
      data: page.data.map((e) => ({
        id: String(e.id),
        type: e.type,
        detail: e.detail,
        created_at: e.createdAt.toISOString(),
      })),
      next_cursor: page.nextCursor,
    };
  }

  /** Forces a refresh now (joining one in flight) and answers its outcome. */
  @Post(':id/refresh')
  @HttpCode(200)
  @RequireScope('connections:write')
  @Audited('connection.refresh_forced', (p) => ({ connectionId: p.id }))
  async refresh(@Caller() caller: Principal, @Param('id', UuidPipe) id: string) {
    await this.connections.get(caller, id);
    const r = await this.refresher.refresh(id, 'forced');
    return {
      outcome: r.outcome,
      status: r.status,
      expires_at: r.expiresAt ? r.expiresAt.toISOString() : null,
      called_provider: r.calledProvider,
      ...(r.retryAfterSeconds !== null && r.outcome !== 'success'
        ? { retry_after: Math.ceil(r.retryAfterSeconds) }
        : {}),
    };
  }

  @Put(':id/grant')
  @RequireScope('connections:write')
  @Audited('connection.grant_replaced', (p) => ({ connectionId: p.id }))
  async replaceGrant(@Caller() caller: Principal, @Param('id', UuidPipe) id: string, @Body() body: GrantDto) {
    return presentConnection(await this.connections.replaceGrant(caller, id, toGrant(body)));
  }

  /** Revokes at the provider, wipes the secrets, keeps the row (status `revoked`) and its history. */
  @Post(':id/revoke')
  @HttpCode(200)
  @RequireScope('connections:write')
  @Audited('connection.revoked', (p) => ({ connectionId: p.id }))
  async revoke(@Caller() caller: Principal, @Param('id', UuidPipe) id: string) {
    const { connection, providerRevocation } = await this.connections.revoke(caller, id);
    return { ...presentConnection(connection), provider_revocation: providerRevocation };
  }

  @Delete(':id')
  @RequireScope('connections:write')
  @Audited('connection.deleted', (p) => ({ connectionId: p.id }))
  async delete(@Caller() caller: Principal, @Param('id', UuidPipe) id: string) {
    const { providerRevocation } = await this.connections.delete(caller, id);
    return { id, deleted: true, provider_revocation: providerRevocation };
  }
}
