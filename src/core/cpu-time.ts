/**
 * CPU time over a measurement window: the capturing thread's own (CLOCK_THREAD_CPUTIME_ID, split
 * by getrusage) and the whole machine's busy time from /proc/stat, which is where the kernel's
 * delivery work on the sender's CPU shows up.
 *
 * Busy time is wall time × CPUs less idle, iowait and steal, not the sum of the user, system, irq
 * and softirq fields: on a tickless kernel those are sampled at scheduler ticks, and a thread that
 * runs in bursts shorter than a tick between sleeps (a paced generator) is never sampled: most of
 * a paced generator's time went missing from those fields (bench/README.md, "Figures behind
 * design choices in the code"), while idle time is kept exactly by the idle loop.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { native } from '../native/binding.js';

/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux architecture we run on. */
const USER_HZ = 100;

/** A thread's context switches and minor faults over a stretch (getrusage(RUSAGE_THREAD)): exact counts. */
export interface ThreadSwitches {
  voluntary: number;
  involuntary: number;
  minorFaults: number;
}

export interface CpuSnapshot {
  threadUserNs: number;
  threadSysNs: number;
  threadTotalNs: number;
  /** The thread's counts so far. */
  threadSwitches: ThreadSwitches;
  /** idle + iowait + steal over all CPUs, in seconds. */
  systemIdleSec: number;
  /** performance.now() when the snapshot was taken, in seconds. */
  wallSec: number;
}

/** Seconds of idle, iowait and steal, summed over CPUs, from /proc/stat's aggregate line. */
export function systemIdleSeconds(procStat = readFileSync('/proc/stat', 'utf8')): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const [, , , idle, iowait, , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((idle ?? 0) + (iowait ?? 0) + (steal ?? 0)) / USER_HZ;
}

/**
 * The clocks at one end of a timed part. Reading and parsing /proc/stat on the capturing thread
 * can take as long as a ring's whole reading (bench/README.md, "Figures behind design choices in
 * the code"): it is read outside the thread's clock, before it at the start of a window and after
 * it at the end.
 */
export function snapshot(end: 'start' | 'end'): CpuSnapshot {
  const idleFirst = end === 'start' ? systemIdleSeconds() : 0;
  const t = native().threadCpuTime();
  const wallSec = performance.now() / 1000;
  return {
    threadUserNs: t.userNs,
    threadSysNs: t.sysNs,
    threadTotalNs: t.totalNs,
    threadSwitches: {
      voluntary: t.voluntarySwitches,
      involuntary: t.involuntarySwitches,
      minorFaults: t.minorFaults,
    },
    systemIdleSec: end === 'start' ? idleFirst : systemIdleSeconds(),
    wallSec,
  };
}

export interface CpuUsage {
  /** Exact (CLOCK_THREAD_CPUTIME_ID). */
  threadSec: number;
  /** getrusage's split: only its proportions mean anything over a short window. */
  threadUserSec: number;
  threadSysSec: number;
  systemBusySec: number;
}

export function usageBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUsage {
  return {
    threadSec: (b.threadTotalNs - a.threadTotalNs) / 1e9,
    threadUserSec: (b.threadUserNs - a.threadUserNs) / 1e9,
    threadSysSec: (b.threadSysNs - a.threadSysNs) / 1e9,
    systemBusySec: Math.max(
      0,
      (b.wallSec - a.wallSec) * os.cpus().length - (b.systemIdleSec - a.systemIdleSec),
    ),
  };
}

/** The thread's context switches and minor faults between two snapshots. */
export function switchesBetween(a: CpuSnapshot, b: CpuSnapshot): ThreadSwitches {
  return {
    voluntary: b.threadSwitches.voluntary - a.threadSwitches.voluntary,
    involuntary: b.threadSwitches.involuntary - a.threadSwitches.involuntary,
    minorFaults: b.threadSwitches.minorFaults - a.threadSwitches.minorFaults,
  };
}
