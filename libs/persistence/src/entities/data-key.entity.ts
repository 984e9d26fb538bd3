import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'data_keys' })
export class DataKeyEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { name: 'kms_key_id' })
  kmsKeyId: string;

  @Column('bytea', { name: 'wrapped_key' })
  wrappedKey: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'retired_at', nullable: true })
  retiredAt: Date | null;
}
