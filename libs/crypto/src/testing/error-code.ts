import { CryptoError } from '../errors';

/** The code of the CryptoError the promise rejects with; anything else (or no rejection) fails the test. */
export async function cryptoErrorCode(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CryptoError)) throw new Error(`expected a CryptoError, got ${String(error)}`);
  return error.code;
}
