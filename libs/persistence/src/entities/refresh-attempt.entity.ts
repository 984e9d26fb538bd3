import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RefreshTrigger = 'scheduled' | 'on_demand' | 'forced';

/** The refresh journal: one row per provider call, opened before it and finished after the write. */
@Entity({ name: 'refresh_attempts' })
export class RefreshAttemptEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  @Column('text')
  trigger: RefreshTrigger;

  /** The connection's version read under the lock when the attempt started. */
  @Column('int', { name: 'connection_version' })
  connectionVersion: number;

  /** A fingerprint of the refresh token presented (never the token). */
  @Column('text', { name: 'refresh_token_fingerprint' })
  refreshTokenFingerprint: string;

  @Column('timestamptz', { name: 'started_at', default: () => 'now()' })
  startedAt: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column('text', { nullable: true })
  outcome: string | null;
}
