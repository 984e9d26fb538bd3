import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type IntegrationStatus = 'ok' | 'credentials_rejected';

@Entity({ name: 'integrations' })
export class IntegrationEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { unique: true })
  key: string;

  @Column('text')
  provider: string;

  @Column('text', { name: 'client_id' })
  clientId: string;

  /** Sealed with AAD `integration:<id>:client_secret`; selected only when asked. */
  @Column('bytea', { name: 'client_secret_sealed', select: false })
  clientSecretSealed: Buffer;

  @Column('text', { name: 'token_url', nullable: true })
  tokenUrl: string | null;

  @Column('text', { name: 'authorize_url', nullable: true })
  authorizeUrl: string | null;

  @Column('text', { name: 'revoke_url', nullable: true })
  revokeUrl: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  scopes: string[];

  @Column('text', { name: 'client_auth' })
  clientAuth: string;

  @Column('int', { name: 'refresh_margin_seconds', nullable: true })
  refreshMarginSeconds: number | null;

  @Column('int', { name: 'request_timeout_ms', nullable: true })
  requestTimeoutMs: number | null;

  /** Where a connect session may send the end user back to (prefixes at a path boundary). */
  @Column('text', { name: 'allowed_return_urls', array: true, default: () => "'{}'" })
  allowedReturnUrls: string[];

  /** Extra authorize-URL parameters of this integration (e.g. Auth0 `audience`); never a secret. */
  @Column('jsonb', { name: 'authorize_params', default: () => "'{}'" })
  authorizeParams: Record<string, string>;

  @Column('text', { default: 'ok' })
  status: IntegrationStatus;

  @Column('text', { name: 'status_reason', nullable: true })
  statusReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
