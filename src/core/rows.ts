/**
 * From measurement windows to result rows: each method and tier runs as `trials` windows
 * (tinybench iterations), and the row sums, checks and summarises them.
 */
import { Bench } from 'tinybench';
import { checkTrial, rowCycles, sumDrops, totalDrops } from './accounting.js';
import { summarizeLatency } from './latency.js';
import type { MethodName, RunConfig, Tier } from './config.js';
import { InterruptedError, UsageError } from './errors.js';
import type { CyclesPerPacket, Row } from './results.js';
import { loadOf, measureWindow, type WindowResult, type WindowSpec } from './window.js';
import { expectedIpv4, type Fixture } from '../net/fixture.js';

export interface Progress {
  method: MethodName;
  tier: Tier;
  /** 0 for the warm-up window, then 1..trials. */
  trial: number;
  trials: number;
  /** pps of the window before this one in the same row, if any. */
  lastPps: number | null;
}

export type PpsStats = { mean: number; rme: number; p50: number; p99: number };

export function unavailableRow(config: RunConfig, method: MethodName, tier: Tier, reason: string): Row {
  const cycles: CyclesPerPacket = { thread: null, user: null, sys: null, system: null, source: 'tsc' };
  return {
    method, tier, mode: config.mode, available: false, reason,
    sent: null, received: 0, dropped: 0, drops: { senderIf: 0, captureIf: 0, method: 0 }, resent: 0, dropsSource: 'kernel',
    ipv4Counted: null, ipv4Expected: null, pps: null, ppsRme: null, ppsP50: null, ppsP99: null,
    ppsSamples: [], noisy: false, point: null, latency: null,
    cyclesPerPacket: cycles, trials: [], ok: false,
  };
}

/** Aggregates trials: totals for counts, totals-weighted cycles, tinybench statistics for pps. */
export function buildRow(
  spec: WindowSpec, config: RunConfig, fixture: Fixture,
  windows: WindowResult[], pps: PpsStats | null,
): Row {
  const { method, tier } = spec;
  const trials = windows.map((w) => w.trial);
  const drops = sumDrops(trials);
  const sent = trials.every((t) => t.sent !== null) ? trials.reduce((a, t) => a + (t.sent ?? 0), 0) : null;
  const received = trials.reduce((a, t) => a + t.received, 0);
  const counted = method.baseline ? null : trials.reduce((a, t) => a + (t.ipv4Counted ?? 0), 0);
  const expected = method.baseline || sent === null ? null : trials.reduce((a, t) => a + expectedIpv4(fixture, t.sent ?? 0), 0);
  const derived = windows.some((w) => w.derivedDrops);
  let verdict: { ok: boolean; reason: string | null } = { ok: true, reason: null };
  for (const [i, t] of trials.entries()) {
    const v = checkTrial(t, config.mode, method.baseline || t.sent === null ? null : expectedIpv4(fixture, t.sent), derived);
    if (!v.ok) {
      verdict = { ok: false, reason: trials.length > 1 ? `trial ${i + 1}: ${v.reason}` : v.reason };
      break;
    }
  }
  return {
    method: method.name, tier, mode: config.mode, available: true, reason: verdict.reason,
    sent, received, dropped: totalDrops(drops), drops, resent: trials.reduce((a, t) => a + t.resent, 0),
    dropsSource: derived ? 'derived' : 'kernel',
    ipv4Counted: counted, ipv4Expected: expected,
    pps: pps?.mean ?? null, ppsRme: pps?.rme ?? null, ppsP50: pps?.p50 ?? null, ppsP99: pps?.p99 ?? null,
    ppsSamples: trials.map((t) => t.pps ?? 0),
    noisy: pps !== null && trials.length > 1 && pps.rme > config.noisyRme,
    point: null,
    latency: summarizeLatency(windows.flatMap((w) => w.latencySamples)),
    cyclesPerPacket: rowCycles(
      windows.map((w) => loadOf(spec, w.cpu, w.trial.windowSec, method.baseline ? 0 : w.trial.received, w.trial.sent)),
      spec.cpus, spec.tscHz, spec.baseline, spec.cycleSource,
    ),
    trials, ok: verdict.ok,
  };
}

/**
 * Runs `trials` windows as tinybench iterations, after one warm-up window that is not recorded: a
 * program that captures for real runs with its loop compiled, so the first, interpreted window
 * would measure V8's tiers rather than the method. Each iteration's duration is the time per
 * packet, so tinybench's throughput statistics are the statistics of pps.
 */
export async function runTrials(
  spec: WindowSpec, trials: number, onProgress?: (p: Progress) => void,
): Promise<{ windows: WindowResult[]; pps: PpsStats | null }> {
  const windows: WindowResult[] = [];
  let phase: 'warmup' | 'run' = 'warmup';
  let lastPps: number | null = null;
  const bench = new Bench({
    iterations: trials, time: 0, warmup: !spec.method.baseline, warmupIterations: 1, warmupTime: 0,
    throws: true, retainSamples: true,
  });
  bench.add(
    `${spec.method.name}/${spec.tier}`,
    async () => {
      const trial = phase === 'run' ? windows.length + 1 : 0;
      onProgress?.({ method: spec.method.name, tier: spec.tier, trial, trials, lastPps });
      const w = await measureWindow(spec);
      lastPps = w.trial.pps;
      if (phase === 'run') windows.push(w);
      return { overriddenDuration: w.trial.pps ? 1000 / w.trial.pps : Number.MAX_VALUE };
    },
    { beforeAll: (mode) => void (phase = mode ?? 'run') },
  );
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (!result || (result.state !== 'completed' && result.state !== 'aborted-with-statistics')) {
    return { windows, pps: null };
  }
  const t = result.throughput;
  const measured = windows.every((w) => w.trial.pps !== null);
  return { windows, pps: measured ? { mean: t.mean, rme: t.rme, p50: t.p50, p99: t.p99 } : null };
}

/** A row whose windows fail with a system error is reported failed; an interruption ends the run. */
export async function runRow(spec: WindowSpec, config: RunConfig, fixture: Fixture, onProgress?: (p: Progress) => void): Promise<Row> {
  try {
    const { windows, pps } = await runTrials(spec, config.trials, onProgress);
    return buildRow(spec, config, fixture, windows, pps);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    if (cause instanceof InterruptedError || cause instanceof UsageError) throw cause;
    // It could run here but failed: available, not ok, and the error as the reason.
    const reason = cause instanceof Error ? cause.message : String(cause);
    return { ...unavailableRow(config, spec.method.name, spec.tier, reason), available: true };
  }
}
