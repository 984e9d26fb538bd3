export type CryptoErrorCode =
  | 'tampered'
  | 'unknown_format_version'
  | 'malformed'
  | 'unknown_data_key'
  | 'kms_unwrap_failed'
  | 'kms_unavailable';

/** Error raised by the crypto lib. Messages never carry plaintext or key material. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';

  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}
