import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One row of the audit trail (the schema of audit.repository.ts); never a secret. */
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** `token.read`, or a management action such as `integration.updated`. */
  @Column('text')
  action: string;

  /** The API key that acted; no foreign key, the record outlives the key. */
  @Column('uuid', { name: 'api_key_id', nullable: true })
  apiKeyId: string | null;

  @Column('uuid', { name: 'connection_id', nullable: true })
  connectionId: string | null;

  /** What a management action acted on: an integration key, an API key ID. */
  @Column('text', { nullable: true })
  target: string | null;

  /** Reads aggregated into this row (1 for a management action). */
  @Column('integer', { default: 1 })
  count: number;

  @Column('timestamptz', { name: 'first_at' })
  firstAt: Date;

  @Column('timestamptz', { name: 'last_at' })
  lastAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
