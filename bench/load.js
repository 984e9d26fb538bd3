'use strict';
/**
 * Load generator for the token benchmark, run as its own process so it does not share an event loop with
 * the orchestrator: `node bench/load.js '<json options>'`.
 *
 * Options: { url, idsFile, headers?, duration (s), connections, overallRate? }.
 * Each request asks for the token of a random connection id from idsFile (one UUID per line).
 * Prints one line of JSON on stdout: throughput, latency percentiles (ms), error counts and the CPU time this
 * process used (to tell whether the load generator itself was the bottleneck).
 */
const fs = require('node:fs');
const autocannon = require('autocannon');

async function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  const ids = fs.readFileSync(opts.idsFile, 'utf8').split('\n').filter(Boolean);
  if (ids.length === 0) throw new Error(`no ids in ${opts.idsFile}`);

  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    headers: opts.headers || {},
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = `/v1/connections/${ids[Math.floor(Math.random() * ids.length)]}/token?min_ttl=60`;
          return req;
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);

  const latency = result.latency;
  const out = {
    duration: result.duration,
    connections: result.connections,
    overallRate: opts.overallRate || null,
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    latency: {
      avg: latency.average,
      p50: latency.p50,
      p90: latency.p90,
      p99: latency.p99,
      max: latency.max,
    },
    statusCodes: result.statusCodeStats,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    loadCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  console.error('load failed:', err);
  process.exit(1);
});
