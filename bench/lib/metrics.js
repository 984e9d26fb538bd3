'use strict';
/** Reading the vault's Prometheus /metrics text and summarising samples. */

/** Sums the samples of a counter by one label, optionally only those matching other labels. */
function promSum(text, metric, byLabel, where = {}) {
  const out = {};
  const re = new RegExp(`^${metric}\\{([^}]*)\\}\\s+([0-9.eE+-]+)`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    out[labels[byLabel]] = (out[labels[byLabel]] || 0) + Number(m[2]);
  }
  return out;
}

/** A counter's total and its samples by label set. */
function counterSum(text, name) {
  let total = 0;
  const byLabels = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const v = Number(line.split(' ').pop());
      total += v;
      const labels = /\{(.*)\}/.exec(line);
      byLabels[labels ? labels[1] : ''] = v;
    }
  }
  return { total, byLabels };
}

/** A histogram: buckets, sum, count, and quantiles interpolated within buckets. */
function parseHistogram(text, name) {
  const buckets = [];
  let sum = null;
  let count = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)[1];
      buckets.push({ le: le === '+Inf' ? Infinity : Number(le), n: Number(line.split(' ').pop()) });
    } else if (line.startsWith(`${name}_sum`)) sum = Number(line.split(' ').pop());
    else if (line.startsWith(`${name}_count`)) count = Number(line.split(' ').pop());
  }
  if (count === null) return null;
  const quantile = (q) => {
    const target = q * count;
    let prevLe = 0;
    let prevN = 0;
    for (const b of buckets) {
      if (b.n >= target) {
        if (b.le === Infinity) return `>${prevLe}`;
        const inBucket = b.n - prevN;
        return inBucket > 0 ? prevLe + ((target - prevN) / inBucket) * (b.le - prevLe) : b.le;
      }
      prevLe = b.le;
      prevN = b.n;
    }
    return null;
  };
  const round = (v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v);
  return {
    count,
    mean: count > 0 ? round(sum / count) : null,
    p50: round(quantile(0.5)),
    p99: round(quantile(0.99)),
    buckets: Object.fromEntries(buckets.map((b) => [String(b.le === Infinity ? '+Inf' : b.le), b.n])),
  };
}

/** Nearest-rank percentile of numbers (sorted here). */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Median (mean of the middle two for an even count); null for none. */
function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `fn` `n` times in a row; p50/p99/max in ms. */
async function timeSamples(n, fn) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const r = (v) => Math.round(v * 100) / 100;
  return { n, p50: r(percentile(ms, 50)), p99: r(percentile(ms, 99)), max: r(Math.max(...ms)) };
}

module.exports = { promSum, counterSum, parseHistogram, percentile, median, timeSamples };
