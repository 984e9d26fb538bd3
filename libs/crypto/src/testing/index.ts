export { MemoryDataKeyStore } from './memory-data-key-store';
