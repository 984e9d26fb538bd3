#!/usr/bin/env node
/**
 * Checks the example Prometheus configuration, and checks and unit-tests the shipped alert rules with promtool (Debian package `prometheus`).
 * Without promtool: fails under CI (which installs it), warns and skips on a developer machine.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'deploy', 'prometheus');
const probe = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
if (probe.error) {
  const msg = 'promtool not found (apt-get install prometheus): alert rules NOT tested';
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(`WARNING: ${msg}`);
  process.exit(0);
}
for (const args of [
  ['check', 'config', 'prometheus.yml'],
  ['check', 'rules', 'alerts.yml'],
  ['test', 'rules', 'alerts.test.yml'],
]) {
  const r = spawnSync('promtool', args, { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
