import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ConnectionEventType =
  | 'created'
  | 'refreshed'
  | 'refresh_failed'
  | 'needs_reauth'
  | 'reauthorized'
  | 'revoked'
  | 'refresh_race_lost'
  | 'grant_replaced'
  | 'reauth_due';

@Entity({ name: 'connection_events' })
export class ConnectionEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  @Column('text', { name: 'tenant_id' })
  tenantId: string;

  @Column('text')
  type: ConnectionEventType;

  @Column('jsonb', { default: () => "'{}'" })
  detail: object;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
