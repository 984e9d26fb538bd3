'use strict';
/** CPU accounting from Linux /proc (null elsewhere): per process, PostgreSQL's processes, the machine. */
const fs = require('node:fs');
const os = require('node:os');

const CLK_TCK = 100; // Linux USER_HZ

/** utime + stime of a process so far, in seconds. */
function procCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU seconds so far of every process named `comm` (e.g. postgres), by pid. */
function cpuByName(comm) {
  const byPid = new Map();
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm)
          byPid.set(pid, procCpuSeconds(pid) || 0);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    return null;
  }
  return byPid;
}

/** Busy and total CPU seconds of the whole machine, all cores together. */
function machineCpu() {
  try {
    const nums = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = nums.reduce((a, b) => a + b, 0);
    const idle = nums[3] + (nums[4] || 0); // idle + iowait
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return null;
  }
}

/**
 * Starts measuring the CPU of the given processes (name -> pid), PostgreSQL and the machine; `stop()` returns
 * seconds per process, PostgreSQL's seconds, the wall time (seconds of one core), and the machine's busy share.
 */
function cpuWindow(pids) {
  const before = {
    procs: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpuSeconds(pid)])),
    pg: cpuByName('postgres'),
    machine: machineCpu(),
  };
  return {
    /** `known`: CPU seconds of processes that exited meanwhile, as they reported them (name -> seconds). */
    stop(known = {}) {
      const machine = machineCpu();
      const pg = cpuByName('postgres');
      if (!machine || !before.machine || !pg || !before.pg) return null;
      const cores = os.cpus().length;
      const wall = (machine.total - before.machine.total) / cores;
      const seconds = {};
      for (const [k, pid] of Object.entries(pids)) {
        const now = procCpuSeconds(pid);
        seconds[k] =
          k in known ? known[k] : now === null || before.procs[k] === null ? null : now - before.procs[k];
      }
      let postgres = 0;
      for (const [pid, cpu] of pg) postgres += cpu - (before.pg.get(pid) || 0);
      const busy = machine.busy - before.machine.busy;
      const accounted = Object.values(seconds).reduce((a, b) => a + (b || 0), 0) + postgres;
      return {
        seconds,
        postgres,
        wall,
        cores,
        machineBusyShare: busy / (wall * cores),
        /** Whatever else ran (other users' builds and tests): noise in the figures, in seconds. */
        other: Math.max(0, busy - accounted),
      };
    },
  };
}

/**
 * The CPU seconds of the children a shell waited for (cutime + cstime of `/proc/<shell>/stat`): wrap a command
 * as `sh -c '"$@"; s=$?; cat /proc/$$/stat >&2; exit $s' sh cmd args...` and pass its stderr here.
 */
function waitedChildrenCpu(statText) {
  const line = statText
    .trim()
    .split('\n')
    .filter((l) => / \(sh\) /.test(l))
    .pop();
  if (!line) return null;
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

module.exports = { waitedChildrenCpu, procCpuSeconds, cpuByName, machineCpu, cpuWindow };
