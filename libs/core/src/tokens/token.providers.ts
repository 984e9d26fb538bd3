import type { Provider } from '@nestjs/common';
import { EnvelopeCipher } from '@vault/crypto';
import { CONNECTION_CHANGES, ConnectionsRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { ConnectionInvalidations } from './connection-invalidations';
import { TokenRowCache } from './token-row-cache';
import { ON_DEMAND_REFRESHER, TokenService, type OnDemandRefresher } from './token.service';

/**
 * The hot path wired for Nest: the token cache, the sink every connection write is announced to
 * (`CONNECTION_CHANGES`, which persistence's repositories inject) and TokenService. `tokenCache`: this
 * process serves tokens, so it subscribes to invalidations and keeps its cache live (the API).
 */
export function tokenProviders(config: VaultConfig, options: { tokenCache: boolean }): Provider[] {
  return [
    {
      provide: TokenRowCache,
      useFactory: (metrics: MetricsService) =>
        new TokenRowCache(
          {
            maxAgeMs: config.TOKEN_CACHE_MAX_AGE_MS,
            maxEntries: config.TOKEN_CACHE_MAX_ENTRIES,
            now: Date.now,
          },
          metrics.tokenCacheCounter(),
        ),
      inject: [MetricsService],
    },
    {
      provide: ConnectionInvalidations,
      useFactory: (redis: RedisService, cache: TokenRowCache) =>
        new ConnectionInvalidations(redis, cache, {
          subscribe: options.tokenCache && config.TOKEN_CACHE_MAX_AGE_MS > 0,
        }),
      inject: [RedisService, TokenRowCache],
    },
    { provide: CONNECTION_CHANGES, useExisting: ConnectionInvalidations },
    {
      provide: TokenService,
      useFactory: (
        repo: ConnectionsRepository,
        cipher: EnvelopeCipher,
        refresher: OnDemandRefresher,
        cache: TokenRowCache,
      ) => new TokenService(repo, cipher, refresher, cache),
      inject: [ConnectionsRepository, EnvelopeCipher, ON_DEMAND_REFRESHER, TokenRowCache],
    },
  ];
}

/** What CoreModule exports of these (persistence's repositories need the sink). */
export const TOKEN_EXPORTS = [CONNECTION_CHANGES];
