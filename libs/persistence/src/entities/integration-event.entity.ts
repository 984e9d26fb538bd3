import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One change to an integration (the schema of integration-events.repository.ts; never a secret). */
@Entity({ name: 'integration_events' })
export class IntegrationEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** No foreign key: the record of a deletion outlives the integration. */
  @Column('uuid', { name: 'integration_id' })
  integrationId: string;

  @Column('text', { name: 'integration_key' })
  integrationKey: string;

  @Column('text')
  type: 'created' | 'updated' | 'deleted';

  /** The API key that made the change; null for changes made without one. */
  @Column('uuid', { name: 'actor_key_id', nullable: true })
  actorKeyId: string | null;

  @Column('jsonb', { default: () => "'{}'" })
  changes: object;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
