/** What the results say about the machine they were measured on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { native } from '../native/binding.js';
import type { CycleSource, HostInfo } from './results.js';

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

export function hostInfo(): HostInfo {
  return {
    kernel: os.release(),
    cpuModel: cpuModel(),
    cpus: os.cpus().length,
    tscHz: Math.round(native().calibrateTsc(200)),
    node: process.version,
  };
}

/** 'perf' where hardware cycle counters work (bare metal), 'tsc' where they do not (most VMs). */
export function cycleSource(): { source: CycleSource; why: string } {
  try {
    native().openCycleCounter().close();
    return { source: 'perf', why: 'perf_event cycles available' };
  } catch (err) {
    return { source: 'tsc', why: `no hardware cycle counter (${(err as Error).message})` };
  }
}
