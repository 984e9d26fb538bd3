'use strict';
/** CPU profiles taken through bench/profile-hook.js (SIGWINCH starts, the next stops and writes the file). */
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, RESULTS_DIR, run, sleep } = require('./run');

/** Where a profile of this run goes (bench/results/, created if missing). */
function profilePath(name) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  return path.join(RESULTS_DIR, `${name}-${run.id}.cpuprofile`);
}

function startProfile(proc) {
  proc.child.kill('SIGWINCH');
}

/** Stops the profiler of `proc` and waits until it wrote `file` (its BENCH_PROFILE_FILE). */
async function stopProfile(proc, file, timeoutMs = 30_000) {
  proc.child.kill('SIGWINCH');
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(`${file}.done`)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await sleep(100);
  }
  fs.rmSync(`${file}.done`);
}

/** Self time of a .cpuprofile by package and by function: where the CPU went. */
function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) || 0) + (profile.timeDeltas[i] || 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map();
  const pkgs = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) || 0) + v);
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const short = url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    add(fns, `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim(), us);
    const vault = /^(?:dist\/apps\/[^/]+\/)?((?:apps|libs)\/[^/]+)\//.exec(short)?.[1];
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short)?.[1] ||
      (vault ? `vault (${vault})` : null) ||
      (short.startsWith('node:')
        ? 'node core (js)'
        : functionName.startsWith('(')
          ? functionName
          : 'native/other');
    add(pkgs, pkg, us);
  }
  const head = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, pct: Math.round((1000 * us) / total) / 10 }));
  return {
    file: path.relative(ROOT, file),
    totalMs: Math.round(total / 1000),
    byPackage: head(pkgs),
    byFunction: head(fns),
  };
}

function printProfile(title, p) {
  console.log(`\n${title} CPU profile (${p.totalMs} ms sampled): ${p.file}`);
  console.log('  self time by package:');
  for (const x of p.byPackage.slice(0, 15)) console.log(`    ${String(x.pct).padStart(5)} %  ${x.name}`);
  console.log('  self time by function:');
  for (const x of p.byFunction) console.log(`    ${String(x.pct).padStart(5)} %  ${x.name}`);
}

module.exports = { profilePath, startProfile, stopProfile, summarizeProfile, printProfile };
