/**
 * CPU time over a measurement window: the capturing thread's own (getrusage RUSAGE_THREAD) and
 * the whole machine's busy time from /proc/stat, which is where the kernel's delivery work on the
 * sender's CPU shows up.
 */
import { readFileSync } from 'node:fs';
import { native } from '../native/binding.js';

/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux architecture we run on. */
const USER_HZ = 100;

export interface CpuSnapshot {
  threadUserNs: number;
  threadSysNs: number;
  threadTotalNs: number;
  /** user+nice+system+irq+softirq over all CPUs, in seconds; idle, iowait and steal excluded. */
  systemBusySec: number;
}

export function systemBusySeconds(procStat = readFileSync('/proc/stat', 'utf8')): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / USER_HZ;
}

export function snapshot(): CpuSnapshot {
  const t = native().threadCpuTime();
  return { threadUserNs: t.userNs, threadSysNs: t.sysNs, threadTotalNs: t.totalNs, systemBusySec: systemBusySeconds() };
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
    systemBusySec: b.systemBusySec - a.systemBusySec,
  };
}
