import type { AuditFilter, AuditRecord, AuditRepository } from '@vault/persistence';
import { decodeIdCursor, pageOf } from '../connections/cursor';
import type { AuditTrail } from './audit-trail';

/** Reading the audit trail (platform admins): newest first, keyset-paginated by row id. */
export class AuditService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly trail: AuditTrail,
  ) {}

  async list(
    filter: AuditFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: AuditRecord[]; nextCursor: string | null }> {
    const before = decodeIdCursor(cursor);
    // This instance's buffered records first, so a reader sees what it just did; other instances' records
    // arrive within AUDIT_FLUSH_INTERVAL_MS.
    if (before === null) await this.trail.flush();
    const rows = await this.repo.list(filter, before, limit + 1);
    return pageOf(rows, limit, (last) => last.id);
  }
}
