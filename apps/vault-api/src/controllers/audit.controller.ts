import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditService, RequireScope } from '@vault/core';
import { AuditQueryDto, presentAuditRecord } from '../dto/audit.dto';

/** The audit trail: token reads per API key and connection, and management actions (platform admins). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  @RequireScope('admin')
  async list(@Query() q: AuditQueryDto) {
    const page = await this.audit.list(
      {
        connectionId: q.connection_id,
        apiKeyId: q.api_key_id,
        since: q.since === undefined ? undefined : new Date(q.since),
      },
      q.cursor,
      q.limit ?? 50,
    );
    return { data: page.data.map(presentAuditRecord), next_cursor: page.nextCursor };
  }
}
