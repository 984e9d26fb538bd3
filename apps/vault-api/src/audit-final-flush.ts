import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AuditTrail } from '@vault/core';

/**
 * Writes the audit trail's last records at shutdown. Nest runs shutdown hooks after the HTTP server has closed
 * (no token read can arrive any more), the root module's first and the global modules' (the database pool)
 * last, so this flush still has the database. A test stops a real API process with SIGTERM and finds the rows.
 */
@Injectable()
export class AuditFinalFlush implements OnApplicationShutdown {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}

  async onApplicationShutdown(): Promise<void> {
    await this.trail.close();
  }
}
