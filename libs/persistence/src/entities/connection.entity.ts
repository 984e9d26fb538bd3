import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ConnectionStatus = 'active' | 'refresh_failing' | 'needs_reauth' | 'revoked';
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = [
  'active',
  'refresh_failing',
  'needs_reauth',
  'revoked',
];

export interface ConnectionLastError {
  class: string;
  code: string;
  http_status: number | null;
  sub_code?: string;
  at: string;
}

@Entity({ name: 'connections' })
export class ConnectionEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'integration_id' })
  integrationId: string;

  @Column('text', { name: 'tenant_id' })
  tenantId: string;

  @Column('text', { name: 'external_id', nullable: true })
  externalId: string | null;

  @Column('text', { name: 'end_user_id', nullable: true })
  endUserId: string | null;

  @Column('text')
  status: ConnectionStatus;

  @Column('text', { name: 'status_reason', nullable: true })
  statusReason: string | null;

  /** Sealed with AAD `connection:<id>:refresh_token`; null only once the connection is revoked. */
  @Column('bytea', { name: 'refresh_token_sealed', nullable: true, select: false })
  refreshTokenSealed: Buffer | null;

  /** Sealed with AAD `connection:<id>:access_token`. */
  @Column('bytea', { name: 'access_token_sealed', nullable: true, select: false })
  accessTokenSealed: Buffer | null;

  @Column('timestamptz', { name: 'access_token_expires_at', nullable: true })
  accessTokenExpiresAt: Date | null;

  @Column('text', { name: 'token_type', default: 'Bearer' })
  tokenType: string;

  @Column('text', { array: true, default: () => "'{}'" })
  scopes: string[];

  @Column('jsonb', { default: () => "'{}'" })
  metadata: object;

  /** Bumped on every write of the grant; refresh writes are conditional on it (fencing). */
  @Column('int', { default: 1 })
  version: number;

  @Column('timestamptz', { name: 'next_refresh_at', nullable: true })
  nextRefreshAt: Date | null;

  @Column('int', { name: 'refresh_failures', default: 0 })
  refreshFailures: number;

  @Column('timestamptz', { name: 'last_refreshed_at', nullable: true })
  lastRefreshedAt: Date | null;

  @Column('jsonb', { name: 'last_error', nullable: true })
  lastError: ConnectionLastError | null;

  @Column('timestamptz', { name: 'refresh_token_expires_at', nullable: true })
  refreshTokenExpiresAt: Date | null;

  /** The refresh token's known death while it is within REAUTH_WARNING_DAYS (null otherwise). */
  @Column('timestamptz', { name: 'reauth_due_at', nullable: true })
  reauthDueAt: Date | null;

  /** Lease of the sweep that claimed this connection's due refresh; claimable again once it has passed. */
  @Column('timestamptz', { name: 'refresh_claimed_until', nullable: true })
  refreshClaimedUntil: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
