/**
 * CPU time of the kernel's ksoftirqd threads, exact in ns from their CPU clocks. On veth the
 * receive path runs in softirq on the sender's CPU, normally inside the sender's own send calls
 * (and so in its thread's CPU time); when there is more softirq work than the kernel does in one
 * go, it hands the rest to ksoftirqd/N. This kernel has no IRQ_TIME_ACCOUNTING, so that time is
 * charged to whichever task ran it, and /proc/stat's softirq field is sampled at ticks: these
 * threads' own clocks are the precise source.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { native } from '../native/binding.js';

let pids: number[] | null = null;

/** The pids of ksoftirqd/0..N-1. Kernel threads live as long as the machine: found once. */
export function softirqThreads(): number[] {
  pids ??= readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return /^ksoftirqd\/\d+$/.test(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      } catch {
        return false; // a process that exited while we looked
      }
    })
    .map(Number);
  return pids;
}

/** Seconds of CPU all ksoftirqd threads have used since boot. */
export function softirqCpuSec(): number {
  let ns = 0;
  for (const pid of softirqThreads()) ns += native().taskCpuTime(pid);
  return ns / 1e9;
}
