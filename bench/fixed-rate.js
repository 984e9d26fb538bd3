'use strict';
/**
 * Open-loop load at a fixed rate for `npm run bench:token` (wrk2 is not packaged by Debian): request i is due
 * at start + i / rate whatever happened to the earlier ones, and its latency is counted from that due time,
 * so a stalled server cannot hide its queue (no coordinated omission). Runs as its own process:
 *   node bench/fixed-rate.js '{"url","idsFile","rate","duration","connections","headers"}'
 * Prints one line of JSON: requests sent and answered, non-2xx, errors, latency percentiles (ms, from the due
 * time), how late the sends were (p99: if that grows, this generator is the bottleneck), and its CPU seconds.
 */
const fs = require('node:fs');
const { Pool } = require('undici');

const opts = JSON.parse(process.argv[2]);
const ids = fs.readFileSync(opts.idsFile, 'utf8').split('\n').filter(Boolean);
const origin = new URL(opts.url).origin;
const pool = new Pool(origin, { connections: opts.connections, pipelining: 1 });
const total = Math.round(opts.rate * opts.duration);
const latencies = new Float64Array(total);
const sendLag = new Float64Array(total);
let sent = 0;
let answered = 0;
let non2xx = 0;
let errors = 0;

function percentile(arr, n, p) {
  const sorted = Array.from(arr.subarray(0, n)).sort((a, b) => a - b);
  return n === 0 ? null : Math.round(sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] * 1000) / 1000;
}

async function main() {
  const cpu0 = process.cpuUsage();
  const start = performance.now() + 50;
  const intervalMs = 1000 / opts.rate;
  await new Promise((resolve) => {
    const fire = (i, due) => {
      sendLag[i] = performance.now() - due;
      const id = ids[Math.floor(Math.random() * ids.length)];
      pool
        .request({ method: 'GET', path: `/v1/connections/${id}/token?min_ttl=60`, headers: opts.headers })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        })
        .catch(() => errors++)
        .finally(() => {
          latencies[answered++] = performance.now() - due;
          if (answered === total) resolve();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        fire(sent, start + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 50);
  });
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      rate: opts.rate,
      requests: answered,
      seconds,
      rps: answered / seconds,
      non2xx,
      errors,
      latencyMs: {
        p50: percentile(latencies, answered, 50),
        p90: percentile(latencies, answered, 90),
        p99: percentile(latencies, answered, 99),
        max: percentile(latencies, answered, 100),
      },
      sendLagMsP99: percentile(sendLag, sent, 99),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    }) + '\n',
  );
}

main().catch((err) => {
  console.error('fixed-rate failed:', err);
  process.exit(1);
});
