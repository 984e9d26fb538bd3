import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  API_KEY_SCOPES,
  ApiKeysRepository,
  UniqueViolation,
  type ApiKeyEntity,
  type ApiKeyScope,
} from '@vault/persistence';
import { VaultError } from '../errors/vault-error';
import type { Principal } from './principal';

const KEY_PREFIX = 'vk_';
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

export interface CreatedApiKey {
  key: string;
  record: ApiKeyEntity;
}

/**
 * API keys: random 256-bit values shown once, stored as SHA-256 (a fast hash is enough for high-entropy keys),
 * compared in constant time. Verified keys are cached for a few seconds so the token hot path does not pay a
 * database read for authentication; a revocation here clears this process's cache at once and other
 * processes within CACHE_TTL_MS.
 */
export class ApiKeysService {
  private readonly cache = new Map<string, { principal: Principal | null; expires: number }>();

  constructor(private readonly repo: ApiKeysRepository) {}

  static hash(key: string): Buffer {
    return createHash('sha256').update(key, 'utf8').digest();
  }

  async authenticate(rawKey: string): Promise<Principal | null> {
    const now = Date.now();
    const hit = this.cache.get(rawKey);
    if (hit && hit.expires > now) return hit.principal;
    const hash = ApiKeysService.hash(rawKey);
    const row = await this.repo.findActiveByHash(hash);
    const principal =
      row && row.keyHash.length === hash.length && timingSafeEqual(row.keyHash, hash)
        ? Object.freeze({ keyId: row.id, scopes: Object.freeze([...row.scopes]), tenantId: row.tenantId })
        : null;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(rawKey, { principal, expires: now + CACHE_TTL_MS });
    return principal;
  }

  async create(input: {
    name: string;
    scopes: ApiKeyScope[];
    tenantId: string | null;
  }): Promise<CreatedApiKey> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const record = await this.insert(key, input);
    return { key, record };
  }

  /** Creates the admin key given by BOOTSTRAP_API_KEY unless a key with that value already exists. */
  async ensureBootstrapKey(key: string): Promise<boolean> {
    if (await this.repo.existsByHash(ApiKeysService.hash(key))) return false;
    try {
      await this.insert(key, { name: 'bootstrap', scopes: [...API_KEY_SCOPES], tenantId: null });
    } catch (err) {
      // Another process inserted it at the same moment (unique hash).
      if (err instanceof UniqueViolation) return false;
      throw err;
    }
    return true;
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.repo.list();
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.repo.revoke(id))) throw VaultError.notFound('api key');
    this.cache.clear();
  }

  private insert(key: string, input: { name: string; scopes: ApiKeyScope[]; tenantId: string | null }) {
    return this.repo.insert({
      id: randomUUID(),
      name: input.name,
      keyHash: ApiKeysService.hash(key),
      keyPrefix: key.slice(0, 8),
      scopes: [...new Set(input.scopes)],
      tenantId: input.tenantId,
    });
  }
}
