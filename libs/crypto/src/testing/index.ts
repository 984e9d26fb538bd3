export { MemoryDataKeyStore } from './memory-data-key-store';
export { cryptoErrorCode } from './error-code';
