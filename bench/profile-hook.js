'use strict';
/**
 * Preloaded (`node -r bench/profile-hook.js ...`) into the vault API by `BENCH_PROFILE=1 npm run bench:token`
 * so that only the load phase is profiled, not start-up or seeding (SIGWINCH because Nest's shutdown hooks
 * already listen to SIGUSR1/SIGUSR2 and the others, and its default action is to do nothing):
 *   first SIGWINCH  -> start the V8 CPU profiler;
 *   second SIGWINCH -> stop it and write the profile to $BENCH_PROFILE_FILE (Chrome DevTools .cpuprofile).
 */
const fs = require('node:fs');
const inspector = require('node:inspector');

const session = new inspector.Session();
session.connect();
let running = false;

process.on('SIGWINCH', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')),
    );
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, result) => {
    const file = process.env.BENCH_PROFILE_FILE || `vault-api-${process.pid}.cpuprofile`;
    if (err) console.error('profile-hook: stop failed', err);
    else fs.writeFileSync(file, JSON.stringify(result.profile));
    // Tell the benchmark the file is complete.
    fs.writeFileSync(`${file}.done`, '');
  });
});
