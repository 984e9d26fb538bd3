export { CryptoError, type CryptoErrorCode } from './errors';
export type {
  CryptoMetrics,
  DataKeyRecord,
  DataKeyStore,
  KmsContext,
  KmsDriver,
  KmsOperation,
} from './types';
export { dataKeyContext } from './types';
export { EnvelopeCipher, type EnvelopeOptions } from './envelope-cipher';
export { LocalKms, type LocalKmsOptions } from './local-kms';
export { AwsKms, type AwsKmsOptions } from './aws-kms';
export { SEALED_FORMAT_VERSION, dataKeyIdOf, fingerprint, openWithKey, sealWithKey } from './sealed';
