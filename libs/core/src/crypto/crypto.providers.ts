import { Logger, type Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { EnvelopeCipher, type KmsDriver } from '@vault/crypto';
import { DataKeysRepository, SealedValuesRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';
import { KEY_ROTATION_QUEUE, watchQueue, type KeyRotationJob } from '../jobs/queues';
import { MetricsService } from '../metrics/metrics.service';
import { DataKeyRetirement } from './data-key-retirement';
import { DataKeyRotation } from './data-key-rotation';
import { createKmsDriver } from './kms.factory';
import { KeyRotationService } from './key-rotation.service';

export const KMS_DRIVER = Symbol('KMS_DRIVER');

/** Envelope encryption wired for Nest: the KMS driver, the cipher, and the online key rotations. */
export function cryptoProviders(config: VaultConfig): Provider[] {
  return [
    {
      provide: KMS_DRIVER,
      useFactory: (metrics: MetricsService) =>
        createKmsDriver(config, metrics, (m) => new Logger('KMS').warn(m)),
      inject: [MetricsService],
    },
    {
      provide: EnvelopeCipher,
      useFactory: (kms: KmsDriver, store: DataKeysRepository, metrics: MetricsService) =>
        new EnvelopeCipher(
          kms,
          store,
          {
            dataKeyMaxAgeMs: config.DATA_KEY_MAX_AGE_SECONDS * 1000,
            dataKeyMaxUses: config.DATA_KEY_MAX_USES,
            cacheMaxEntries: 1000,
            cacheMaxAgeMs: 3600_000,
          },
          metrics,
        ),
      inject: [KMS_DRIVER, DataKeysRepository, MetricsService],
    },
    {
      provide: DataKeyRotation,
      useFactory: (cipher: EnvelopeCipher, keys: DataKeysRepository) => new DataKeyRotation(cipher, keys),
      inject: [EnvelopeCipher, DataKeysRepository],
    },
    {
      provide: DataKeyRetirement,
      useFactory: (cipher: EnvelopeCipher, keys: DataKeysRepository, sealed: SealedValuesRepository) =>
        new DataKeyRetirement(cipher, keys, sealed, {
          batchSize: config.KEY_ROTATION_BATCH_SIZE,
          // Every process re-checks its sealing key at least this often, and writes what it sealed just
          // after sealing it; 5 s on top is a wide margin for that write.
          graceMs: cipher.activeKeyRecheckMs + 5_000,
        }),
      inject: [EnvelopeCipher, DataKeysRepository, SealedValuesRepository],
    },
    {
      provide: KeyRotationService,
      useFactory: (
        queue: Queue<KeyRotationJob>,
        keys: DataKeysRepository,
        sealed: SealedValuesRepository,
        retirement: DataKeyRetirement,
        rewrap: DataKeyRotation,
      ) => new KeyRotationService(watchQueue(queue), keys, sealed, retirement, rewrap),
      inject: [
        getQueueToken(KEY_ROTATION_QUEUE),
        DataKeysRepository,
        SealedValuesRepository,
        DataKeyRetirement,
        DataKeyRotation,
      ],
    },
  ];
}
