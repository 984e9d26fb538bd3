#!/usr/bin/env node
/**
 * `npm start`: runs the API and the worker together on one machine for a newcomer. Each process creates the
 * database if it is missing and runs migrations (under an advisory lock) before it listens. Ctrl-C stops both.
 */
'use strict';
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const apps = [
  ['vault-api', 'dist/apps/vault-api/apps/vault-api/src/main.js'],
  ['vault-worker', 'dist/apps/vault-worker/apps/vault-worker/src/main.js'],
];

const children = apps.map(([name, entry]) => {
  const child = spawn(process.execPath, [join(root, entry)], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the other process`);
      stop(code ?? 1);
    }
  });
  return child;
});

let stopping = false;
function stop(code) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on('exit', r))))).then(
    () => process.exit(code),
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
