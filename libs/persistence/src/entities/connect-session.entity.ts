import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A started authorization (connect session); found by the SHA-256 of its state, used once. */
@Entity({ name: 'connect_sessions' })
export class ConnectSessionEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('bytea', { name: 'state_hash', unique: true })
  stateHash: Buffer;

  @Column('uuid', { name: 'integration_id' })
  integrationId: string;

  @Column('text', { name: 'tenant_id' })
  tenantId: string;

  /** Set for a re-consent of an existing connection. */
  @Column('uuid', { name: 'connection_id', nullable: true })
  connectionId: string | null;

  @Column('text', { name: 'end_user_id', nullable: true })
  endUserId: string | null;

  @Column('text', { name: 'return_url' })
  returnUrl: string;

  /** PUBLIC_URL's callback when the session started: the code exchange must send the same. */
  @Column('text', { name: 'redirect_uri' })
  redirectUri: string;

  @Column('text', { array: true, default: () => "'{}'" })
  scopes: string[];

  /** Sealed with AAD `connect_session:<id>:code_verifier`; never leaves the vault. */
  @Column('bytea', { name: 'code_verifier_sealed', select: false })
  codeVerifierSealed: Buffer;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'consumed_at', nullable: true })
  consumedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
