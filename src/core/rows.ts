/**
 * From measurement windows to result rows. Every row of a point runs a window per round, after one
 * warm-up window that is not recorded (a program that captures for real runs with its loop
 * compiled, so the first, interpreted window would measure V8's tiers rather than the method).
 * The rows' windows are interleaved, one round at a time: on a shared machine the speed drifts
 * over seconds, and a row measured all at once would carry whatever the machine did then.
 */
import {
  baselineFrom,
  checkTrial,
  MIN_PACKETS,
  noCycles,
  rowCycles,
  sumDrops,
  totalDrops,
  type Baseline,
  type WindowLoad,
} from './accounting.js';
import { atReference, referenceSpeed, speedOf, twoClusters, type ReferenceSpeed } from './drift.js';
import { explainCounts } from './explain.js';
import type { CallsKind } from './method.js';
import { summarizeLatency } from './latency.js';
import { BASELINE, type MethodName, type RunConfig, type Tier } from './config.js';
import { InterruptedError, UsageError } from '../shared/errors.js';
import type {
  CycleSource,
  CyclesPerPacket,
  AtReferenceSpeed,
  Row,
  ThreadShare,
  TrialAtReferenceSpeed,
  TrialResult,
} from './results.js';
import { rme, summarize } from './statistics.js';
import {
  measureBaseline,
  measureWindow,
  type BaselineSpec,
  type WindowResult,
  type WindowSpec,
} from './window.js';

export interface Progress {
  method: MethodName;
  tier: Tier;
  /** 0 for the warm-up window, then 1, 2, ... */
  trial: number;
  /** How many there will be; null when the rounds go on until the figures are precise enough. */
  trials: number | null;
  /** pps of the window before this one in the same row, if any. */
  lastPps: number | null;
}

/**
 * A row being measured: what it is, how one of its windows is taken, what they gave so far, and
 * why it stopped if it did. The `none` baseline is a plan too (planBaseline): its windows are
 * taken by a path of their own, and it has no warm-up, since nothing is compiled to read.
 */
export interface RowPlan {
  readonly method: MethodName;
  readonly tier: Tier;
  /** Takes one window (measureWindow or measureBaseline). */
  readonly measure: () => Promise<WindowResult>;
  readonly warmUp: boolean;
  /** Where its windows ran: the capture interface, and the TSC rate and CPUs for its cycles. */
  readonly spec: BaselineSpec;
  windows: WindowResult[];
  lastPps: number | null;
  /** The system error that ended the row's windows; null while it runs fine. */
  failure: string | null;
  /** What the row must say even when it passes (a drain cut to what the method holds); null if nothing. */
  note: string | null;
  /** What its sessions' calls count (CaptureMethod.callsAre); null for the baseline, which reads nothing. */
  callsAre: CallsKind | null;
}

export function planRow(spec: WindowSpec, note: string | null = null): RowPlan {
  return {
    method: spec.method.name,
    tier: spec.tier,
    measure: () => measureWindow(spec),
    warmUp: true,
    spec,
    windows: [],
    lastPps: null,
    failure: null,
    note,
    callsAre: spec.method.callsAre ?? 'system calls',
  };
}

export function planBaseline(spec: BaselineSpec): RowPlan {
  return {
    method: BASELINE,
    tier: 'js',
    measure: () => measureBaseline(spec),
    warmUp: false,
    spec,
    windows: [],
    lastPps: null,
    failure: null,
    note: null,
    callsAre: null,
  };
}

export function unavailableRow(
  config: RunConfig,
  method: MethodName,
  tier: Tier,
  reason: string,
): Row {
  return {
    method,
    tier,
    mode: config.mode,
    threads: config.threads,
    available: false,
    reason,
    sent: null,
    received: 0,
    dropped: 0,
    drops: { senderIf: 0, captureIf: 0, method: 0 },
    resent: 0,
    dropsSource: 'kernel',
    ipv4Counted: null,
    ipv4Expected: null,
    pps: null,
    ppsRme: null,
    ppsP50: null,
    ppsP99: null,
    ppsSamples: [],
    noisy: false,
    point: null,
    latency: null,
    cyclesPerPacket: noCycles('tsc'),
    trials: [],
    perThread: null,
    ok: false,
  };
}

/**
 * Each reader thread's part of a row, summed over its trials; null with one reader. Its cycles
 * are its own CPU time over its own packets: the waiting thread's time is only in the row's read.
 */
function threadShares(
  trials: readonly TrialResult[],
  cpus: readonly number[],
  tscHz: number,
): ThreadShare[] | null {
  const per = trials.map((t) => t.perThread ?? null);
  const first = per[0];
  if (!first || per.some((p) => p === null || p.length !== first.length)) return null;
  return first.map((_, i) => {
    const parts = per.map((p) => p![i]!);
    const received = parts.reduce((a, p) => a + p.received, 0);
    const cpuSec = parts.reduce((a, p) => a + p.cpuSec, 0);
    return {
      index: i,
      cpu: cpus.length > 0 ? cpus[i % cpus.length]! : null,
      received,
      drops: parts.some((p) => p.drops === null) ? null : parts.reduce((a, p) => a + p.drops!, 0),
      read: received < MIN_PACKETS ? null : (cpuSec * tscHz) / received,
    };
  });
}

async function runWindow(
  plan: RowPlan,
  trial: number,
  trials: number | null,
  keep: boolean,
  onProgress?: (p: Progress) => void,
): Promise<void> {
  if (plan.failure !== null) return;
  onProgress?.({ method: plan.method, tier: plan.tier, trial, trials, lastPps: plan.lastPps });
  try {
    const w = await plan.measure();
    plan.lastPps = w.trial.pps;
    if (keep) plan.windows.push(w);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    if (cause instanceof InterruptedError || cause instanceof UsageError) throw cause;
    // It could run here but failed: the row reports the error, the others go on.
    plan.failure = cause instanceof Error ? cause.message : String(cause);
  }
}

/**
 * Runs every plan's warm-up window, then `trials` rounds of one window per plan. Each round starts
 * one plan further on, so that no row always follows the same one.
 */
/**
 * When a point's rounds end: after a fixed number (--trials), or, from `minRounds` on, once
 * `imprecise()` names no row any more, or when another round would end past `deadlineMs`.
 */
export type RoundsRule =
  | { kind: 'fixed'; rounds: number }
  | { kind: 'precision'; minRounds: number; deadlineMs: number; imprecise: () => string[] };

/** How a point's rounds ended (results.ts Stopping, less the options it was asked with). */
export interface RoundsRun {
  rule: 'trials' | 'precision' | 'time';
  rounds: number;
  impreciseRows: string[];
}

export async function runInterleaved(
  plans: readonly RowPlan[],
  rule: RoundsRule,
  onProgress?: (p: Progress) => void,
): Promise<RoundsRun> {
  const trials = rule.kind === 'fixed' ? rule.rounds : null;
  for (const plan of plans) {
    if (plan.warmUp) await runWindow(plan, 0, trials, false, onProgress);
  }
  let lastRoundMs = 0;
  for (let round = 0; ; round++) {
    if (rule.kind === 'fixed' && round >= rule.rounds)
      return { rule: 'trials', rounds: round, impreciseRows: [] };
    if (rule.kind === 'precision' && round >= rule.minRounds) {
      const imprecise = rule.imprecise();
      if (imprecise.length === 0) return { rule: 'precision', rounds: round, impreciseRows: [] };
      if (performance.now() + lastRoundMs > rule.deadlineMs)
        return { rule: 'time', rounds: round, impreciseRows: imprecise };
    }
    const started = performance.now();
    for (let i = 0; i < plans.length; i++) {
      await runWindow(plans[(round + i) % plans.length]!, round + 1, trials, true, onProgress);
    }
    lastRoundMs = performance.now() - started;
  }
}

/** The reference `deliver` is charged against, from the baseline's windows and every fill's twin. */
/**
 * What a point's rows are charged and compared against: the baseline `deliver` is charged
 * against (the none baseline's windows and every fill's twin), and the point's reference speed
 * (the median speed probe of all its windows) with the same baseline at that speed, for the
 * rows' figures at reference speed (core/drift.ts). speed is null where a window has no probe.
 */
export interface PointReference {
  baseline: Baseline | null;
  speed: ReferenceSpeed | null;
  baselineAtSpeed: Baseline | null;
}

export function pointReference(
  basePlan: RowPlan | null,
  plans: readonly RowPlan[],
  mode: 'drain' | 'live',
): PointReference {
  const base = basePlan?.windows.map((w) => w.load) ?? [];
  const all = plans.flatMap((p) => p.windows.map((w) => w.load));
  const speeds = all.map((l) => l.speed);
  const speed = speeds.every((s) => s !== null) ? referenceSpeed(speeds) : null;
  const at = (l: WindowLoad): WindowLoad => atReference(l, speed!);
  return {
    baseline: baselineFrom(base, all, mode),
    speed,
    baselineAtSpeed: speed && baselineFrom(base.map(at), all.map(at), mode),
  };
}

/** Sums, checks and summarises a plan's windows into a row. */
export function buildRow(
  plan: RowPlan,
  config: RunConfig,
  reference: PointReference,
  cycleSource: CycleSource,
): Row {
  const { spec } = plan;
  const cyclesFor = (w: readonly WindowLoad[], baseline: Baseline | null): CyclesPerPacket =>
    rowCycles(w, spec.cpus, spec.tscHz, baseline, cycleSource, { deliver: config.deliver });
  const cycles = (w: readonly WindowResult[]): CyclesPerPacket =>
    cyclesFor(
      w.map((x) => x.load),
      reference.baseline,
    );
  const row = summariseRow(plan, config, cycles);
  if (plan.failure !== null) return row;
  const { speed } = reference;
  if (speed === null)
    return withDrift(
      { ...row, normalised: null, explain: explainCounts(row.trials, plan.callsAre) },
      config,
    );
  const atRef = plan.windows.map((w) => atReference(w.load, speed));
  const perWindow = atRef.map((l, i): TrialAtReferenceSpeed => {
    const c = cyclesFor([l], reference.baselineAtSpeed);
    const pps = row.trials[i]!.pps;
    const at = l.speed && speedOf(l.speed).reader;
    return {
      deliver: c.deliver,
      read: c.read,
      total: c.total,
      pps: pps === null || !at ? null : (pps * at) / speed.readerNs,
    };
  });
  const normalised = atSpeed(
    atRef,
    (w) => cyclesFor(w, reference.baselineAtSpeed),
    perWindow,
    speed,
  );
  const trials = row.trials.map((t, i) => ({ ...t, atReferenceSpeed: perWindow[i]! }));
  return withDrift(
    { ...row, trials, normalised, explain: explainCounts(row.trials, plan.callsAre) },
    config,
  );
}

/** A row's figures from its windows at reference speed, and the margins of error over them. */
function atSpeed(
  loads: readonly WindowLoad[],
  cycles: (w: readonly WindowLoad[]) => CyclesPerPacket,
  perWindow: readonly TrialAtReferenceSpeed[],
  speed: ReferenceSpeed,
): AtReferenceSpeed {
  const whole = cycles(loads);
  const all = (f: (w: TrialAtReferenceSpeed) => number | null): number[] | null => {
    const values = perWindow.map(f);
    return values.every((v) => v !== null) ? values : null;
  };
  const spread = (f: (w: TrialAtReferenceSpeed) => number | null): number | null => {
    const values = all(f);
    return values === null ? null : rme(values);
  };
  const rates = all((w) => w.pps);
  return {
    deliver: whole.deliver,
    read: whole.read,
    total: whole.total,
    readRme: spread((w) => w.read),
    totalRme: whole.totalRme,
    pps:
      rates === null || rates.length === 0 ? null : rates.reduce((a, r) => a + r, 0) / rates.length,
    ppsRme: spread((w) => w.pps),
    reference: speed,
  };
}

/**
 * Whether the windows fell into two clusters (over the per-window totals, else reads), and
 * for a noisy row whether the machine's drift explains its noise: at reference speed its cycles'
 * margin of error is within --noisy-rme.
 */
function withDrift(row: Row, config: RunConfig): Row {
  const totals = row.trials.map((t) => t.cyclesPerPacket.total);
  const reads = row.trials.map((t) => t.cyclesPerPacket.read);
  const values = totals.every((t) => t !== null) ? totals : reads;
  const n = row.normalised;
  const rmes = n ? [n.ppsRme, n.total !== null ? n.totalRme : n.readRme] : [];
  return {
    ...row,
    clusters: values.every((v) => v !== null) ? twoClusters(values) : null,
    driftExplainsNoise:
      !row.noisy || n === null ? null : rmes.every((r) => r === null || r <= config.noisyRme),
  };
}

/** The baseline's row: delivers nothing by definition, reads nothing, counts nothing. */
export function buildBaselineRow(plan: RowPlan, config: RunConfig, cycleSource: CycleSource): Row {
  const reference: CyclesPerPacket = {
    ...noCycles(cycleSource),
    deliver: 0,
    deliverNote: 'nothing attached: the reference the other rows are charged against',
  };
  return summariseRow(plan, config, () => reference);
}

function summariseRow(
  plan: RowPlan,
  config: RunConfig,
  cycles: (w: readonly WindowResult[]) => CyclesPerPacket,
): Row {
  const { spec, windows, method, tier } = plan;
  if (plan.failure !== null)
    return { ...unavailableRow(config, method, tier, plan.failure), available: true };
  const trials: TrialResult[] = windows.map((w) => ({
    ...w.trial,
    latency: w.trial.received < MIN_PACKETS ? null : w.trial.latency,
    cyclesPerPacket: cycles([w]),
  }));
  const drops = sumDrops(trials);
  const sent = trials.every((t) => t.sent !== null)
    ? trials.reduce((a, t) => a + (t.sent ?? 0), 0)
    : null;
  const received = trials.reduce((a, t) => a + t.received, 0);
  const counting = trials.every((t) => t.ipv4Counted !== null);
  const counted = counting ? trials.reduce((a, t) => a + t.ipv4Counted!, 0) : null;
  const expected =
    counting && sent !== null ? trials.reduce((a, t) => a + (t.ipv4Expected ?? 0), 0) : null;
  const dropsSource = windows.some((w) => w.dropsSource === 'unknown')
    ? 'unknown'
    : windows.some((w) => w.dropsSource === 'derived')
      ? 'derived'
      : 'kernel';
  let verdict: { ok: boolean; reason: string | null } = { ok: true, reason: null };
  for (const [i, t] of trials.entries()) {
    const v = checkTrial(t, {
      mode: config.mode,
      ipv4Expected: t.ipv4Expected,
      derived: dropsSource === 'derived',
      iface: spec.captureIf,
      genIface: config.genIface,
    });
    if (!v.ok) {
      verdict = { ok: false, reason: trials.length > 1 ? `trial ${i + 1}: ${v.reason}` : v.reason };
      break;
    }
  }
  const pps = trials.every((t) => t.pps !== null) ? summarize(trials.map((t) => t.pps!)) : null;
  // A margin of error resting on a handful of stray frames says nothing (see MIN_PACKETS).
  const ppsRme = received < MIN_PACKETS ? null : (pps?.rme ?? null);
  const cyclesPerPacket = cycles(windows);
  const noisy =
    trials.length > 1 &&
    [ppsRme, cyclesPerPacket.totalRme].some((r) => r != null && r > config.noisyRme);
  return {
    method,
    tier,
    mode: config.mode,
    threads: config.threads,
    available: true,
    reason: [verdict.reason, plan.note].filter((r) => r !== null).join('; ') || null,
    sent,
    received,
    dropped: totalDrops(drops),
    drops,
    resent: trials.reduce((a, t) => a + t.resent, 0),
    dropsSource,
    ipv4Counted: counted,
    ipv4Expected: expected,
    pps: pps?.mean ?? null,
    ppsRme,
    ppsP50: pps?.p50 ?? null,
    ppsP99: pps?.p99 ?? null,
    ppsSamples: trials.map((t) => t.pps ?? 0),
    noisy,
    point: null,
    latency:
      received < MIN_PACKETS ? null : summarizeLatency(windows.flatMap((w) => w.latencySamples)),
    cyclesPerPacket,
    trials,
    perThread: threadShares(trials, spec.options.captureCpus, spec.tscHz),
    ok: verdict.ok,
  };
}
