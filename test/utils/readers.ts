import type { TestApi } from './api';

export interface ReadStats {
  reads: number;
  /** `<status> <body>` of every read that did not answer 200. */
  failed: string[];
}

/**
 * Keeps reading the tokens of `ids` (`lanes` reads in flight, round robin) until stopped: the load that a
 * rotation must not disturb. `minTtl` stays below the test provider's access token lifetime.
 */
export function keepReading(
  api: { call: TestApi['call'] },
  ids: string[],
  opts: { lanes?: number; minTtl?: number } = {},
): { stats: ReadStats; stop(): Promise<ReadStats> } {
  const lanes = opts.lanes ?? 4;
  const stats: ReadStats = { reads: 0, failed: [] };
  let running = true;
  const loops = Array.from({ length: lanes }, async (_, lane) => {
    for (let i = lane; running; i += lanes) {
      const id = ids[i % ids.length] ?? '';
      const res = await api.call('GET', `/v1/connections/${id}/token?min_ttl=${opts.minTtl ?? 1}`);
      stats.reads++;
      if (res.status !== 200) stats.failed.push(`${res.status} ${res.raw}`);
    }
  });
  return {
    stats,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}
