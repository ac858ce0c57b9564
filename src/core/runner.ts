/**
 * The runner: a RunConfig in, Results out. It checks what can be checked before anything is
 * created, builds the test bed, measures the baseline, runs every method and tier as `trials`
 * windows (tinybench iterations), and removes the test bed whatever happens.
 */
import { Bench } from 'tinybench';
import { checkTrial, rowCycles, sumDrops, totalDrops, type Baseline } from './accounting.js';
import type { MethodName, RunConfig, Tier } from './config.js';
import { InterruptedError, UsageError } from './errors.js';
import { cycleSource, hostInfo } from './host.js';
import type { CaptureMethod, MethodOptions } from './method.js';
import { requireCapabilities } from './privileges.js';
import { RESULTS_SCHEMA, type CyclesPerPacket, type Results, type Row } from './results.js';
import { measureWindow, type WindowResult, type WindowSpec } from './window.js';
import { expectedIpv4, loadFixture, type Fixture } from '../net/fixture.js';
import { createTestbed, destroyTestbed, sweepStale, type Testbed } from '../net/testbed.js';
import { native } from '../native/binding.js';
import { existsSync, readdirSync } from 'node:fs';

export interface RunDeps {
  methods: ReadonlyMap<MethodName, CaptureMethod>;
  signal: AbortSignal;
  /** Told before every window, for progress output; the runner itself never prints. */
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  method: MethodName;
  tier: Tier;
  /** 0 for the warm-up window, then 1..trials. */
  trial: number;
  trials: number;
  /** pps of the window before this one in the same row, if any. */
  lastPps: number | null;
}

export function methodOptions(config: RunConfig): MethodOptions {
  return {
    batch: config.batch,
    ratePps: config.rate === 'max' ? 0 : config.rate,
    ringBytes: config.ringMb === null ? null : Math.round(config.ringMb * 2 ** 20),
    queues: config.queues,
    zeroCopy: config.zeroCopy,
  };
}

function validate(config: RunConfig, fixture: Fixture, methods: ReadonlyMap<MethodName, CaptureMethod>): void {
  if (config.iface !== null && config.mode === 'drain') {
    throw new UsageError('--iface captures traffic from elsewhere, so only --mode live can be used with it');
  }
  if (config.iface !== null && !existsSync(`/sys/class/net/${config.iface}`)) {
    throw new UsageError(`no interface named ${config.iface} (interfaces here: ${readdirSync('/sys/class/net').sort().join(', ')})`);
  }
  if (config.mode !== 'drain') return;
  const frameBytes = Math.max(...fixture.lengths);
  for (const name of config.methods) {
    const max = methods.get(name)?.maxHoldFrames(frameBytes, methodOptions(config));
    if (max != null && config.count > max) {
      throw new UsageError(`--count ${config.count} does not fit in ${name}'s kernel buffer: at most ${max} frames of ${frameBytes} bytes`);
    }
  }
}

function unavailableRow(config: RunConfig, method: MethodName, tier: Tier, reason: string): Row {
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
function buildRow(
  spec: WindowSpec, config: RunConfig, fixture: Fixture,
  windows: WindowResult[], pps: { mean: number; rme: number; p50: number; p99: number } | null,
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
    point: null, latency: null,
    cyclesPerPacket: rowCycles(
      windows.map((w) => ({ cpu: w.cpu, windowSec: w.trial.windowSec, packets: method.baseline ? 0 : w.trial.received })),
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
async function runTrials(
  spec: WindowSpec, trials: number, onProgress?: (p: Progress) => void,
): Promise<{ windows: WindowResult[]; pps: { mean: number; rme: number; p50: number; p99: number } | null }> {
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

export async function runBenchmark(config: RunConfig, deps: RunDeps): Promise<Results> {
  const fixture = await loadFixture(config.fixturePath);
  validate(config, fixture, deps.methods);
  requireCapabilities(['CAP_NET_ADMIN', 'CAP_NET_RAW', ...(config.iface === null ? (['CAP_SYS_ADMIN'] as const) : [])], 'capbench run');

  const startedAt = new Date().toISOString();
  const host = hostInfo();
  const cycles = cycleSource().source;
  if (config.captureCpu >= 0) native().setThreadAffinity(config.captureCpu);

  await sweepStale();
  let testbed: Testbed | null = null;
  const rows: Row[] = [];
  try {
    if (config.iface === null) testbed = await createTestbed();
    const base = {
      mode: config.mode,
      captureIf: config.iface ?? testbed!.captureIf,
      sender: testbed ? { ifname: testbed.senderIf, netns: testbed.netns } : null,
      traffic: testbed
        ? { netnsPath: testbed.netnsPath, ifname: testbed.senderIf, fixture, ratePps: config.rate === 'max' ? 0 : config.rate, cpu: config.generatorCpu }
        : null,
      fixture, count: config.count, durationSec: config.durationSec, options: methodOptions(config),
      tscHz: host.tscHz, cpus: host.cpus, cycleSource: cycles, signal: deps.signal,
    };

    // The baseline runs first, always: every other row's system-wide figure is relative to it.
    const noneMethod = [...deps.methods.values()].find((m) => m.baseline);
    let baseline: Baseline | null = null;
    if (noneMethod) {
      const { windows, pps } = await runTrials({ ...base, method: noneMethod, tier: 'js', baseline: null }, config.trials, deps.onProgress);
      baseline = { busyPerSec: windows.reduce((a, w) => a + w.busyPerSec, 0) / windows.length };
      if (config.methods.includes(noneMethod.name)) rows.push(buildRow({ ...base, method: noneMethod, tier: 'js', baseline: null }, config, fixture, windows, pps));
    }

    for (const name of config.methods) {
      const method = deps.methods.get(name);
      if (!method) throw new UsageError(`unknown method ${name}`);
      if (method.baseline) continue;
      const availability = method.probe();
      for (const tier of config.tiers) {
        if (!availability.available) {
          rows.push(unavailableRow(config, name, tier, availability.reason));
        } else if (!method.tiers.includes(tier)) {
          rows.push(unavailableRow(config, name, tier, `${name} has no ${tier} tier`));
        } else {
          rows.push(await runRow({ ...base, method, tier, baseline }, config, fixture, deps.onProgress));
        }
      }
    }
  } finally {
    if (testbed) await destroyTestbed(testbed);
  }
  return { schema: RESULTS_SCHEMA, startedAt, host, config, rows };
}

/** A row whose windows fail with a system error is reported failed; an interruption ends the run. */
async function runRow(spec: WindowSpec, config: RunConfig, fixture: Fixture, onProgress?: (p: Progress) => void): Promise<Row> {
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
