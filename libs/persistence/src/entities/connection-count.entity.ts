import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ConnectionStatus } from './connection.entity';

/**
 * Signed deltas of the connection counts by tenant × integration × status, appended by triggers on
 * `connections` and folded by `ConnectionsRepository.compactCounts()`; a count is the sum of its group.
 */
@Entity({ name: 'connection_counts' })
export class ConnectionCountEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('text', { name: 'tenant_id' })
  tenantId: string;

  @Column('uuid', { name: 'integration_id' })
  integrationId: string;

  @Column('text')
  status: ConnectionStatus;

  @Column('bigint')
  n: string;
}
