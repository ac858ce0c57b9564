/**
 * The machine's own speed, measured in every run. This VM's speed drifts by 15–30 % in phases of
 * seconds, and whole runs differ by 4–12 %: a figure taken in one window carries the phase it fell
 * in. Around every window capbench times a fixed amount of work (the speed probe, native
 * speedProbe) on each CPU that does the window's work: the reading thread's, and the sender's,
 * where veth delivers. The table keeps what the machine paid; figures "at reference speed" scale
 * each window's CPU time by how much slower or faster than the run's reference (the median probe)
 * that window's CPUs ran, and are what compare and the CI gate judge across runs.
 */
import type { WindowLoad } from './accounting.js';
import type { Row, RunSpeed, WindowClusters, WindowSpeed } from './results.js';
import { rme } from './statistics.js';

/** The probe's ns a window ran at, per CPU role: the mean of the probes before and after it. */
export function speedOf(s: WindowSpeed): { reader: number; sender: number | null } {
  return {
    reader: (s.reader.before + s.reader.after) / 2,
    sender: s.sender === null ? null : (s.sender.before + s.sender.after) / 2,
  };
}

/** The reference speed of a set of windows: the median probe per role (ns the work took). */
export interface ReferenceSpeed {
  readerNs: number;
  senderNs: number | null;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function referenceSpeed(speeds: readonly WindowSpeed[]): ReferenceSpeed | null {
  if (speeds.length === 0) return null;
  const at = speeds.map(speedOf);
  const senders = at.map((s) => s.sender).filter((s): s is number => s !== null);
  return {
    readerNs: median(at.map((s) => s.reader)),
    senderNs: senders.length === at.length ? median(senders) : null,
  };
}

/**
 * A window's load as it would have been at the reference speed: the reading thread's CPU time
 * scaled by how fast the reader's CPU ran, the sender side's (generator, ksoftirqd, twin, the
 * machine's busy time in two-port mode) by how fast the sender's did. A window that ran at half
 * speed took twice the CPU time for the same work: its time is halved.
 */
export function atReference(load: WindowLoad, ref: ReferenceSpeed): WindowLoad {
  if (load.speed === null) return load;
  const at = speedOf(load.speed);
  const kr = ref.readerNs / at.reader;
  const ks = ref.senderNs !== null && at.sender !== null ? ref.senderNs / at.sender : 1;
  const d = load.delivery;
  return {
    ...load,
    cpu: {
      threadSec: load.cpu.threadSec * kr,
      threadUserSec: load.cpu.threadUserSec * kr,
      threadSysSec: load.cpu.threadSysSec * kr,
      systemBusySec: load.cpu.systemBusySec * ks,
    },
    delivery: d && {
      ...d,
      senderSec: d.senderSec * ks,
      softirqSec: d.softirqSec * ks,
      twinSec: d.twinSec === null ? null : d.twinSec * ks,
      system: d.system && {
        ...d.system,
        busySec: d.system.busySec * ks,
        readerSec: d.system.readerSec * kr,
      },
    },
  };
}

/** How much a run's speed varied, per CPU role: median, range and the probes' rme, in ns. */
export interface SpeedSpread {
  medianNs: number;
  minNs: number;
  maxNs: number;
  /** Relative margin of error of the probes' mean, percent. */
  rmePct: number | null;
  /** (max − min) / median, percent: how far apart the fastest and slowest windows ran. */
  rangePct: number;
}

export function speedSpread(values: readonly number[]): SpeedSpread | null {
  if (values.length === 0) return null;
  const med = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    medianNs: med,
    minNs: min,
    maxNs: max,
    rmePct: rme(values),
    rangePct: ((max - min) / med) * 100,
  };
}

/**
 * For the cluster check: the share of the variance the best two-group split explains in 99 % of
 * samples of one normal spread, by sample size (20,000 samples each, simulated when this was
 * written). More than that, and the values are taken to have fallen into two clusters.
 */
const SPLIT_P99: readonly (readonly [number, number])[] = [
  [5, 0.982],
  [6, 0.967],
  [8, 0.934],
  [10, 0.907],
  [12, 0.887],
  [15, 0.861],
  [20, 0.83],
  [25, 0.809],
  [30, 0.793],
  [40, 0.77],
  [60, 0.749],
];

function splitThreshold(n: number): number {
  const last = SPLIT_P99[SPLIT_P99.length - 1]!;
  if (n >= last[0]) return last[1];
  const i = SPLIT_P99.findIndex(([size]) => size >= n);
  const [n1, t1] = SPLIT_P99[i]!;
  if (i === 0 || n1 === n) return t1;
  const [n0, t0] = SPLIT_P99[i - 1]!;
  return t0 + ((t1 - t0) * Math.log(n / n0)) / Math.log(n1 / n0);
}

const squares = (values: readonly number[]): number => {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0);
};

/**
 * Whether a row's windows fell into two clusters rather than one spread (a phase of the machine,
 * or a method with two ways of going): the best split of the sorted values into two groups, each
 * at least a fifth of them, explains more of their variance than the same split of one normal
 * spread does 99 times in 100. BenchmarkDotNet answers the same question with its mValue, from
 * histograms, which need more windows than a row has here: below 30 it practically never fires,
 * where this check already finds two clusters five sigma apart in half of 10-window rows.
 * null with fewer than 5 values.
 */
export function twoClusters(values: readonly number[]): WindowClusters | null {
  const n = values.length;
  if (n < 5) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const total = squares(sorted);
  const least = Math.max(2, Math.ceil(n / 5));
  let explained = 0;
  for (let i = least; i <= n - least && total > 0; i++) {
    explained = Math.max(
      explained,
      1 - (squares(sorted.slice(0, i)) + squares(sorted.slice(i))) / total,
    );
  }
  const threshold = splitThreshold(n);
  return { explained, threshold, two: explained > threshold };
}

/** How much the machine's speed varied over a run's windows, per CPU role. */
export function runSpeed(rows: readonly Row[]): RunSpeed | null {
  const speeds = rows
    .flatMap((r) => r.trials.map((t) => t.speed ?? null))
    .filter((s): s is WindowSpeed => s !== null);
  if (speeds.length === 0) return null;
  const at = speeds.map(speedOf);
  const senders = at.map((s) => s.sender).filter((s): s is number => s !== null);
  return { reader: speedSpread(at.map((s) => s.reader)), sender: speedSpread(senders) };
}
