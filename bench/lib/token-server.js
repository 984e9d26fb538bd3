'use strict';
/** The instant token endpoint (bench/instant-token-server.js) as a child process of a benchmark. */
const path = require('node:path');
const { sleep } = require('./run');
const { startChild } = require('./processes');

/** Starts it with `env` (TOKEN_SERVER_*) and waits until it prints its port; the child gets `url`. */
async function startTokenServer(env = {}) {
  const proc = startChild('token-server', [path.join(__dirname, '..', 'instant-token-server.js')], env);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = /\{"port":(\d+)\}/.exec(proc.out);
    if (m) {
      proc.url = `http://127.0.0.1:${m[1]}`;
      return proc;
    }
    if (proc.child.exitCode !== null) throw new Error(`token server exited at start:\n${proc.out}`);
    if (Date.now() > deadline) throw new Error(`token server did not start:\n${proc.out}`);
    await sleep(20);
  }
}

/** What the token server saw so far (GET /stats). */
async function tokenServerStats(proc) {
  const res = await fetch(`${proc.url}/stats`);
  return res.json();
}

module.exports = { startTokenServer, tokenServerStats };
