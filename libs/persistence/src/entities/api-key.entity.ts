import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const API_KEY_SCOPES = [
  'tokens:read',
  'connections:read',
  'connections:write',
  'integrations:write',
  'admin',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  /** SHA-256 of the whole key; the key itself is never stored. */
  @Column('bytea', { name: 'key_hash', unique: true, select: false })
  keyHash: Buffer;

  /** First characters of the key, to tell keys apart in a list. */
  @Column('text', { name: 'key_prefix' })
  keyPrefix: string;

  @Column('text', { array: true })
  scopes: ApiKeyScope[];

  @Column('text', { name: 'tenant_id', nullable: true })
  tenantId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  /**
   * True for a key stored by an earlier version (no `vk_` checksum): the column defaults to true, so rows that
   * an earlier version still writes during a rolling upgrade count as legacy too; this version writes false.
   */
  @Column('boolean', { name: 'legacy_format', default: true })
  legacyFormat: boolean;
}
