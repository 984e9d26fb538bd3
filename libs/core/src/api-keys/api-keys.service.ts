import { randomUUID, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  API_KEY_SCOPES,
  ApiKeysRepository,
  UniqueViolation,
  type ApiKeyEntity,
  type ApiKeyScope,
} from '@vault/persistence';
import { decodeCursor, keysetCursorOf, pageOf } from '../connections/cursor';
import { VaultError } from '../errors/vault-error';
import { generateApiKey, hashApiKey, isWellFormedApiKey } from './key-format';
import { assertScopesAllowed, type Principal } from './principal';

export interface CreatedApiKey {
  key: string;
  record: ApiKeyEntity;
}

export interface ApiKeysCacheOptions {
  /** How long a verified key is trusted without a query: bounds how late another instance sees a revocation. */
  knownTtlMs: number;
  /** How long an unknown key is refused without a query. */
  unknownTtlMs: number;
  /** Entries per cache (verified and unknown keys are kept apart, so a flood of one never evicts the other). */
  maxEntries: number;
  /** How often the set of keys made by earlier versions is re-read (only when such a value is presented). */
  legacyReloadMs: number;
  /** The clock, in milliseconds (tests pass a fake one). */
  now: () => number;
}

const DEFAULTS: ApiKeysCacheOptions = {
  knownTtlMs: 5_000,
  unknownTtlMs: 60_000,
  maxEntries: 10_000,
  legacyReloadMs: 10 * 60_000,
  now: () => performance.now(),
};
/** No key of ours, nor any bootstrap key an earlier version accepted in practice, is longer. */
const MAX_BEARER_LENGTH = 1024;
const LEGACY_RETRY_MS = 5_000;

/**
 * API keys: random 256-bit values shown once, stored as SHA-256, compared in constant time.
 *
 * Authentication costs no query for a value that cannot be a key of ours: a well-formed key has the `vk_`
 * prefix and a valid checksum (key-format.ts); a value of any other shape is looked up only if its hash is
 * one of the keys stored by an earlier version (read into memory once, and again at most every
 * `legacyReloadMs`). Verified keys sit in one bounded LRU for a few seconds, unknown well-formed keys in
 * another for a minute, and concurrent lookups of one key share one query: an unknown key costs at most one
 * query per minute per process. Revoking here drops the key from this process's cache at once.
 */
export class ApiKeysService {
  private readonly options: ApiKeysCacheOptions;
  private readonly known: LRUCache<string, Principal>;
  private readonly unknown: LRUCache<string, true>;
  private readonly lookups = new Map<string, Promise<Principal | null>>();
  private legacy: { hashes: Map<string, string>; loadedAt: number } | null = null;
  private legacyLoad: Promise<Map<string, string>> | null = null;

  constructor(
    private readonly repo: ApiKeysRepository,
    options: Partial<ApiKeysCacheOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    const { maxEntries: max, now } = this.options;
    const perf = { now };
    this.known = new LRUCache({ max, ttl: this.options.knownTtlMs, ttlResolution: 0, perf });
    this.unknown = new LRUCache({ max, ttl: this.options.unknownTtlMs, ttlResolution: 0, perf });
  }

  /**
   * The principal of a key verified within the last `knownTtlMs`, synchronously, or `undefined` (not verified
   * lately, not of the current format, or not a key): then `authenticate` decides.
   */
  cachedPrincipal(rawKey: string): Principal | undefined {
    if (rawKey.length > MAX_BEARER_LENGTH || !isWellFormedApiKey(rawKey)) return undefined;
    return this.known.get(hashApiKey(rawKey).toString('base64'));
  }

  async authenticate(rawKey: string): Promise<Principal | null> {
    if (rawKey.length > MAX_BEARER_LENGTH) return null;
    const wellFormed = isWellFormedApiKey(rawKey);
    const legacy = wellFormed ? null : await this.legacyHashes();
    if (legacy?.size === 0) return null;
    const hash = hashApiKey(rawKey);
    const id = hash.toString('base64');
    if (legacy && !legacy.has(id)) return null;
    const hit = this.known.get(id);
    if (hit) return hit;
    if (this.unknown.has(id)) return null;
    let lookup = this.lookups.get(id);
    if (!lookup) {
      lookup = this.lookup(id, hash).finally(() => this.lookups.delete(id));
      this.lookups.set(id, lookup);
    }
    return lookup;
  }

  /** Reads the keys made by earlier versions before the first request (the API calls it at start). */
  async warmUp(): Promise<void> {
    await this.legacyHashes();
  }

  /** Every caller (HTTP, CLI) gets the same checks: unknown or missing scopes are a validation error. */
  async create(input: {
    name: string;
    scopes: readonly string[];
    tenantId: string | null;
  }): Promise<CreatedApiKey> {
    const scopes = validScopes(input.scopes);
    const key = generateApiKey();
    const record = await this.insert(key, { ...input, scopes });
    return { key, record };
  }

  /** Creates the admin key given by BOOTSTRAP_API_KEY unless a key with that value already exists. */
  async ensureBootstrapKey(key: string): Promise<boolean> {
    if (!isWellFormedApiKey(key)) throw new Error('BOOTSTRAP_API_KEY is not a key of the vk_ format');
    if (await this.repo.existsByHash(hashApiKey(key))) return false;
    try {
      await this.insert(key, { name: 'bootstrap', scopes: [...API_KEY_SCOPES], tenantId: null });
    } catch (err) {
      // Another process inserted it at the same moment (unique hash).
      if (err instanceof UniqueViolation) return false;
      throw err;
    }
    return true;
  }

  async list(
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: ApiKeyEntity[]; nextCursor: string | null }> {
    const rows = await this.repo.list(cursor === undefined ? null : decodeCursor(cursor), limit + 1);
    return pageOf(rows, limit, keysetCursorOf);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.repo.revoke(id))) throw VaultError.notFound('api key');
    for (const [hash, principal] of this.known.entries()) {
      if (principal.keyId === id) this.known.delete(hash);
    }
    for (const [hash, keyId] of this.legacy?.hashes ?? []) {
      if (keyId === id) this.legacy?.hashes.delete(hash);
    }
  }

  private async lookup(id: string, hash: Buffer): Promise<Principal | null> {
    const row = await this.repo.findActiveByHash(hash);
    if (!row || row.keyHash.length !== hash.length || !timingSafeEqual(row.keyHash, hash)) {
      this.unknown.set(id, true);
      return null;
    }
    const principal: Principal = Object.freeze({
      keyId: row.id,
      scopes: Object.freeze([...row.scopes]),
      tenantId: row.tenantId,
    });
    this.known.set(id, principal);
    return principal;
  }

  /** SHA-256 (base64) → id of the active keys stored by earlier versions, in whatever shape they had. */
  private async legacyHashes(): Promise<Map<string, string>> {
    if (this.legacy && this.options.now() - this.legacy.loadedAt < this.options.legacyReloadMs)
      return this.legacy.hashes;
    this.legacyLoad ??= this.repo
      .listLegacyHashes()
      .then(
        (rows) => {
          const hashes = new Map(rows.map((r) => [r.keyHash.toString('base64'), r.id]));
          this.legacy = { hashes, loadedAt: this.options.now() };
          return hashes;
        },
        () => {
          // The database is down: keep what we knew and try again in a few seconds, so a flood of made-up
          // values does not become a flood of failing queries.
          const hashes = this.legacy?.hashes ?? new Map<string, string>();
          this.legacy = {
            hashes,
            loadedAt: this.options.now() - this.options.legacyReloadMs + LEGACY_RETRY_MS,
          };
          return hashes;
        },
      )
      .finally(() => {
        this.legacyLoad = null;
      });
    return this.legacyLoad;
  }

  private async insert(key: string, input: { name: string; scopes: ApiKeyScope[]; tenantId: string | null }) {
    assertScopesAllowed(input.scopes, input.tenantId);
    const keyHash = hashApiKey(key);
    const record = await this.repo.insert({
      id: randomUUID(),
      name: input.name,
      keyHash,
      keyPrefix: key.slice(0, 8),
      scopes: [...new Set(input.scopes)],
      tenantId: input.tenantId,
    });
    this.unknown.delete(keyHash.toString('base64'));
    return record;
  }
}

function validScopes(scopes: readonly string[]): ApiKeyScope[] {
  if (scopes.length === 0) throw VaultError.validation('scopes', 'give at least one scope');
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw VaultError.validation(
      'scopes',
      `unknown scope(s) ${unknown.join(', ')}; the scopes are ${API_KEY_SCOPES.join(', ')}`,
    );
  }
  return scopes as ApiKeyScope[];
}
