/**
 * Two results files side by side: which rows got faster or slower, by how much, and whether the
 * difference is larger than the trials' own scatter. Pure: no I/O, no formatting.
 *
 * cycles/pkt compares total (deliver + read, what a packet costs the machine) where both rows have
 * it, else read (the capturing thread alone: a /1 file, or a row whose deliver was not measured),
 * so that two files are judged on what both have; MetricChange.figure says which. With neither,
 * the metric is not compared, which never counts as a regression or an improvement.
 *
 * Noise is judged with Welch's t-test on the per-trial figures (pps: ppsSamples; cycles/pkt:
 * trials[i].cyclesPerPacket.total or .read), at 95 % for the comparison as a whole: a default run
 * has a dozen figures, and at 95 % each, identical code "regressed" somewhere in two of four
 * comparisons on this machine. Each figure's margin is therefore at 1 − 5 %/m for m figures
 * judged (Bonferroni), and the header says so. Overlap of the two 95% intervals is the simpler
 * rule, but it is far too lenient: two intervals can overlap while the difference of the means is
 * clearly significant (non-overlap corresponds to p ≈ 0.006, not 0.05). Welch's test asks exactly
 * "is the difference of the means beyond its own 95% margin" and does not assume the two runs
 * were equally noisy. It is written as a margin: uncertainty = t(df) × √(se₁² + se₂²) ÷ base, so
 * the ±figure printed beside a change is the very band the verdict uses (beyond noise ⇔ |change|
 * > uncertainty). Where a side has fewer than two trials but both rows carry an rme (ppsRme,
 * totalRme), the margin falls back to the two intervals' combined half-widths (the overlap rule);
 * with neither the uncertainty is unknown and only the threshold applies.
 */
import { methodLabel, type Results, type Row, type SweepPoint } from '../core/results.js';
import { mean, rme, standardError } from '../core/statistics.js';
import { tQuantile } from '../core/student-t.js';
import { si } from './format-number.js';

export type Metric = 'pps' | 'cycles';

export interface MetricInfo {
  label: string;
  unit: string;
  /** The direction that counts as an improvement. */
  better: 'bigger' | 'smaller';
}

export const METRICS: Readonly<Record<Metric, MetricInfo>> = {
  pps: { label: 'rx pps', unit: 'pps', better: 'bigger' },
  cycles: { label: 'cyc/pkt', unit: 'cycles/pkt', better: 'smaller' },
};

/** The cycles/pkt figures a comparison can be made on, in order of preference. */
export type CyclesFigure = 'total' | 'read';

/** 'same' when the change is within noise or within the threshold; 'n/a' (not compared) when a side has no figure. */
export type Verdict = 'faster' | 'slower' | 'same' | 'n/a';

/** How the uncertainty of a change was worked out. */
export type NoiseTest = 'welch' | 'interval-overlap' | 'unknown';

export interface MetricChange {
  metric: Metric;
  /** cycles: the figure both rows had and that was compared; null for pps, or when not compared. */
  figure: CyclesFigure | null;
  base: number | null;
  next: number | null;
  /** next ÷ base − 1; null when either side has no figure (or base is 0). */
  change: number | null;
  /** 95% half-width of the change's noise band, as a fraction of base like `change`; null = unknown. */
  uncertainty: number | null;
  noise: NoiseTest;
  verdict: Verdict;
  /** Why a verdict is 'same': nothing beyond the noise, or a real change smaller than the threshold. */
  within: 'noise' | 'threshold' | null;
}

export type RowStatus = 'matched' | 'added' | 'removed';

export interface RowChange {
  /** Identity of the row across files: method, tier, mode and sweep point. */
  key: string;
  label: string;
  status: RowStatus;
  base: Row | null;
  next: Row | null;
  /** Present for matched rows only. */
  metrics: Readonly<Record<Metric, MetricChange>> | null;
  /** Both rows ran and passed their checks; only such rows can fail a comparison. */
  gates: boolean;
  /** Metrics that got worse beyond both the threshold and the noise, on a row that gates. */
  regressed: Metric[];
  /** Drain rows: the counts a method and its batch set, compared (see COUNT_TOLERANCE). */
  counts: CountChange[];
}

/**
 * A count per packet two drain rows both have: set by the method and its batch, not by the
 * machine's speed, so a change beyond COUNT_TOLERANCE is a change of what the code does
 * ("calls/pkt ×2.00": twice the calls into the kernel per packet).
 */
export interface CountChange {
  name: 'calls/pkt' | 'pkts/batch';
  base: number;
  next: number;
  /** next ÷ base. */
  ratio: number;
  /**
   * Whether this count can fail a comparison: calls/pkt always; pkts/batch where a batch is what
   * one counted call took (set by --batch). A ring block's or peek's fill also depends on when the
   * kernel's retire timer closed it, so there it is reported only.
   */
  gated: boolean;
  /** Worse beyond the tolerance (more calls, smaller batches), gated, on a row that gates. */
  regressed: boolean;
}

/** How far a drain count may move before it counts: 5 %. Context switches and faults never gate. */
export const COUNT_TOLERANCE = 0.05;

function countChanges(base: Row | null, next: Row | null, gates: boolean): CountChange[] {
  if (base?.mode !== 'drain' || next?.mode !== 'drain' || !base.explain || !next.explain) return [];
  const pairs: [CountChange['name'], number | null, number | null, 'more' | 'fewer'][] = [
    ['calls/pkt', base.explain.callsPerPacket, next.explain.callsPerPacket, 'more'],
    ['pkts/batch', base.explain.packetsPerBatch, next.explain.packetsPerBatch, 'fewer'],
  ];
  const callsCounted = base.explain.callsPerPacket !== null && next.explain.callsPerPacket !== null;
  return pairs.flatMap(([name, b, n, worse]) => {
    if (b === null || n === null || b <= 0) return [];
    const ratio = n / b;
    const beyond = worse === 'more' ? ratio > 1 + COUNT_TOLERANCE : ratio < 1 - COUNT_TOLERANCE;
    const gated = name === 'calls/pkt' || callsCounted;
    return [{ name, base: b, next: n, ratio, gated, regressed: gates && gated && beyond }];
  });
}

/**
 * What the cycles and rates were judged on: each window's figures at reference speed (the speed
 * probe around it), the new file's brought to the base file's reference; or, where a file has no
 * probes (written before capbench measured its drift) or --raw asked for it, what was paid.
 */
export type Judged = 'reference-speed' | 'paid';

export interface Comparison {
  kind: 'capbench.comparison';
  /** A change must be larger than this (percent) as well as beyond noise to count. */
  thresholdPct: number;
  /** Figures judged against their noise, m: each margin is at confidence 1 − 5 %/m (figureConfidence). */
  judgedFigures: number;
  /** The two-sided confidence of each figure's margin, so that all of them hold at 95 % together. */
  figureConfidence: number;
  judged: Judged;
  /**
   * How much slower the new file's machine ran than the base file's, by the runs' speed probes
   * (the new reference ÷ the base's, − 1; negative: faster), per CPU role; null without probes.
   */
  newMachineSlower: { reader: number; sender: number | null } | null;
  /** Why the comparison is on what was paid although reference speed was asked for; null otherwise. */
  judgedNote: string | null;
  base: Results;
  next: Results;
  /** Base file's order, then rows only the new file has. */
  rows: RowChange[];
  /** Rows present in both files. */
  matched: number;
}

export interface CompareOptions {
  /** Percent; 10 means a 10% change. */
  thresholdPct: number;
  /** What to judge (see Judged): reference speed unless a file cannot say (default), or what was paid. */
  judge?: Judged;
}

export const DEFAULT_THRESHOLD_PCT = 10;

export interface SampleStats {
  mean: number;
  /** Standard error of the mean. */
  se: number;
  n: number;
}

const finite = (values: readonly (number | null)[]): number[] =>
  values.filter((v): v is number => v !== null && Number.isFinite(v));

/** Mean and standard error of at least two finite values; null otherwise. */
export function sampleStats(values: readonly (number | null)[]): SampleStats | null {
  const xs = finite(values);
  const n = xs.length;
  if (n < 2) return null;
  return { mean: mean(xs), se: standardError(xs), n };
}

/** One cycles figure of each trial: the spread behind the row's figure. */
export function cyclesSamples(row: Row, figure: CyclesFigure): (number | null)[] {
  return row.trials.map((t) => t.cyclesPerPacket[figure]);
}

/** A row's cycles/pkt as trackers and charts show it: which figure, its value and its 95% rme (percent). */
export interface Headline {
  figure: CyclesFigure;
  value: number;
  rme: number | null;
}

/**
 * total, what a packet costs the machine; read where total was not measured (deliver null, or a
 * /1 file). The rme is the row's totalRme, else the spread of the trials' figures.
 */
export function headlineCycles(row: Row): Headline | null {
  const cpp = row.cyclesPerPacket;
  const figure: CyclesFigure | null =
    cpp.total !== null ? 'total' : cpp.read !== null ? 'read' : null;
  if (figure === null || !Number.isFinite(cpp[figure])) return null;
  const spread = rme(finite(cyclesSamples(row, figure)));
  return {
    figure,
    value: cpp[figure]!,
    rme: figure === 'total' ? (cpp.totalRme ?? spread) : spread,
  };
}

/** The confidence each of m figures is judged at, for 95 % over all of them (Bonferroni). */
export function figureConfidence(m: number): number {
  return 1 - FAMILY_ERROR / Math.max(1, m);
}

const FAMILY_ERROR = 0.05;

/** Half-width of (next − base) by Welch's t-test at `confidence`, in absolute units. */
function welchMargin(a: SampleStats, b: SampleStats, confidence: number): number {
  const va = a.se ** 2;
  const vb = b.se ** 2;
  const v = va + vb;
  if (v === 0) return 0;
  // Welch–Satterthwaite degrees of freedom.
  const df = v ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return tQuantile((1 + confidence) / 2, df) * Math.sqrt(v);
}

interface Side {
  value: number | null;
  samples: readonly (number | null)[];
  /** Percent, when the row carries one. */
  rme: number | null;
}

const ran = (row: Row | null): row is Row => row !== null && row.available;

/** total where both rows have it, else read where both do; null when they share neither. */
export function commonCyclesFigure(base: Row | null, next: Row | null): CyclesFigure | null {
  if (!ran(base) || !ran(next)) return null;
  const both = (f: CyclesFigure): boolean =>
    base.cyclesPerPacket[f] !== null && next.cyclesPerPacket[f] !== null;
  return both('total') ? 'total' : both('read') ? 'read' : null;
}

function side(row: Row | null, metric: Metric, figure: CyclesFigure): Side {
  if (!ran(row)) return { value: null, samples: [], rme: null };
  if (metric === 'pps') return { value: row.pps, samples: row.ppsSamples, rme: row.ppsRme };
  const cpp = row.cyclesPerPacket;
  return {
    value: cpp[figure],
    samples: cyclesSamples(row, figure),
    rme: figure === 'total' ? cpp.totalRme : null,
  };
}

function uncertaintyOf(
  base: Side,
  next: Side,
  b: number,
  n: number,
  confidence: number,
): { uncertainty: number | null; noise: NoiseTest } {
  const sb = sampleStats(base.samples);
  const sn = sampleStats(next.samples);
  if (sb !== null && sn !== null)
    return { uncertainty: welchMargin(sb, sn, confidence) / b, noise: 'welch' };
  if (base.rme !== null && next.rme !== null) {
    // Intervals m(1 ± rme) overlap exactly when |n − b| ≤ b·rme_b + n·rme_n; the rmes are 95 %
    // figures, widened to `confidence` as a normal's would be.
    const widen = tQuantile((1 + confidence) / 2, Infinity) / tQuantile(0.975, Infinity);
    return {
      uncertainty: ((b * base.rme + n * next.rme) / 100 / b) * widen,
      noise: 'interval-overlap',
    };
  }
  return { uncertainty: null, noise: 'unknown' };
}

export function compareMetric(
  baseRow: Row | null,
  nextRow: Row | null,
  metric: Metric,
  thresholdPct: number,
  confidence = 0.95,
): MetricChange {
  const common = metric === 'cycles' ? commonCyclesFigure(baseRow, nextRow) : null;
  // Not compared, cycles: each side's read is shown, the one figure a row that ran has.
  const base = side(baseRow, metric, common ?? 'read');
  const next = side(nextRow, metric, common ?? 'read');
  const b = base.value;
  const n = next.value;
  if (
    (metric === 'cycles' && common === null) ||
    b === null ||
    n === null ||
    !Number.isFinite(b) ||
    !Number.isFinite(n) ||
    b <= 0
  ) {
    return {
      metric,
      figure: null,
      base: b,
      next: n,
      change: null,
      uncertainty: null,
      noise: 'unknown',
      verdict: 'n/a',
      within: null,
    };
  }
  const change = n / b - 1;
  const { uncertainty, noise } = uncertaintyOf(base, next, b, n, confidence);
  const known = { metric, figure: common, base: b, next: n, change, uncertainty, noise };
  if (uncertainty !== null && Math.abs(change) <= uncertainty)
    return { ...known, verdict: 'same', within: 'noise' };
  if (Math.abs(change) * 100 <= thresholdPct)
    return { ...known, verdict: 'same', within: 'threshold' };
  const up = change > 0;
  const better = METRICS[metric].better === 'bigger' ? up : !up;
  return { ...known, verdict: better ? 'faster' : 'slower', within: null };
}

/** "rx pps", "cyc/pkt total", "cyc/pkt read"; plain "cyc/pkt" when not compared. */
export function changeLabel(m: MetricChange): string {
  return m.figure === null ? METRICS[m.metric].label : `${METRICS[m.metric].label} ${m.figure}`;
}

/** Stable identity of a row across files; rows of one reader thread keep the key they had before threads existed. */
export function rowKey(row: Row): string {
  const key = [
    methodLabel(row),
    row.tier,
    row.mode,
    row.point?.frameBytes ?? null,
    row.point?.offeredPps ?? null,
  ];
  return JSON.stringify(readerThreads(row) > 1 ? [...key, readerThreads(row)] : key);
}

/** A row's reader threads: 1 in files written before --threads existed. */
export function readerThreads(row: Row): number {
  return row.threads ?? row.point?.threads ?? 1;
}

/** "64 B @ max", "128 B @ 100.0 kpps", "fixture @ 50.0 kpps" (frames of the run's own fixture). */
export function pointLabel(point: SweepPoint): string {
  const size = point.frameBytes === null ? 'fixture' : `${point.frameBytes} B`;
  return `${size} @ ${point.offeredPps === null ? 'max' : `${si(point.offeredPps)}pps`}`;
}

/** "socket/js drain" ("socket/js ×2 drain" with two reader threads), plus the sweep point when there is one. */
export function rowLabel(row: Row): string {
  const threads = readerThreads(row) > 1 ? ` ×${readerThreads(row)}` : '';
  const head = `${methodLabel(row)}/${row.tier}${threads} ${row.mode}`;
  return row.point === null ? head : `${head} ${pointLabel(row.point)}`;
}

/** A fixture's name from its path: "/x/fixtures/udp64.pcap" → "udp64". */
export function fixtureName(results: Results): string {
  const file = results.config.fixturePath.split('/').pop() ?? '';
  return file.replace(/\.pcap$/, '');
}

/** What a run's traffic was, in a few words: "udp64", "iface eth1", "udp64 iface eth1 gen eth2" (two-port). */
export function trafficLabel(results: Results): string {
  const { iface, genIface } = results.config;
  if (iface === null) return fixtureName(results);
  return genIface === null
    ? `iface ${iface}`
    : `${fixtureName(results)} iface ${iface} gen ${genIface}`;
}

/**
 * Name for trackers (github-action-benchmark, Bencher), stable across runs: "socket/js drain
 * udp64"; sweep rows name their point instead of the fixture; --iface rows the interface,
 * two-port rows the fixture and both ports.
 */
export function benchmarkName(row: Row, results: Results): string {
  if (row.point !== null) return rowLabel(row);
  return `${rowLabel(row)} ${trafficLabel(results)}`;
}

function rowChange(
  base: Row | null,
  next: Row | null,
  thresholdPct: number,
  confidence: number,
): RowChange {
  const row = (next ?? base)!;
  const status: RowStatus = base === null ? 'added' : next === null ? 'removed' : 'matched';
  const metrics =
    status === 'matched'
      ? {
          pps: compareMetric(base, next, 'pps', thresholdPct, confidence),
          cycles: compareMetric(base, next, 'cycles', thresholdPct, confidence),
        }
      : null;
  const gates =
    base !== null && next !== null && base.available && next.available && base.ok && next.ok;
  const regressed =
    gates && metrics !== null
      ? Object.values(metrics)
          .filter((m) => m.verdict === 'slower')
          .map((m) => m.metric)
      : [];
  return {
    key: rowKey(row),
    label: rowLabel(row),
    status,
    base,
    next,
    metrics,
    gates,
    regressed,
    counts: countChanges(base, next, gates),
  };
}

/**
 * A row as judged at reference speed: its figures at its point's reference speed, brought to
 * `to`'s (the base row's) where given: cycles scale with the probe's ns (a reference twice as
 * slow took twice the CPU time for the same work), rates inversely. Rows without figures at
 * reference speed stay as they were.
 */
function atReferenceSpeed(row: Row, to: Row | null): Row {
  const n = row.normalised ?? null;
  if (n === null) return row;
  const target = to?.normalised?.reference ?? n.reference;
  const fr = target.readerNs / n.reference.readerNs;
  const fs =
    target.senderNs !== null && n.reference.senderNs !== null
      ? target.senderNs / n.reference.senderNs
      : fr;
  const cycles = (
    deliver: number | null,
    read: number | null,
  ): { deliver: number | null; read: number | null; total: number | null } => ({
    deliver: deliver === null ? null : deliver * fs,
    read: read === null ? null : read * fr,
    total: deliver === null || read === null ? null : deliver * fs + read * fr,
  });
  const trials = row.trials.map((t) => {
    const a = t.atReferenceSpeed ?? null;
    return a === null
      ? t
      : {
          ...t,
          pps: a.pps === null ? null : a.pps / fr,
          cyclesPerPacket: { ...t.cyclesPerPacket, ...cycles(a.deliver, a.read) },
        };
  });
  const ppsSamples = trials.map((t) => t.pps ?? 0);
  return {
    ...row,
    pps: ppsSamples.length > 0 ? mean(ppsSamples) : row.pps,
    ppsSamples,
    ppsRme: n.ppsRme,
    cyclesPerPacket: { ...row.cyclesPerPacket, ...cycles(n.deliver, n.read), totalRme: n.totalRme },
    trials,
  };
}

const probed = (r: Results): boolean => r.rows.some((row) => row.normalised != null);

export function compare(base: Results, next: Results, options: CompareOptions): Comparison {
  const asked = options.judge ?? 'reference-speed';
  const judged: Judged =
    asked === 'reference-speed' && probed(base) && probed(next) ? 'reference-speed' : 'paid';
  const without = [probed(base) ? null : 'BASE', probed(next) ? null : 'NEW'].filter(
    (w) => w !== null,
  );
  const judgedNote =
    asked === judged
      ? null
      : `${without.join(' and ')} ${without.length === 1 ? 'has' : 'have'} no speed probes (written before capbench measured its own drift), so a change of the machine's speed between the runs counts as a change`;
  const view = (row: Row, to: Row | null): Row =>
    judged === 'reference-speed' ? atReferenceSpeed(row, to) : row;
  // Rows with the same key (not expected, but not ruled out by the schema) pair up in order.
  const pending = new Map<string, Row[]>();
  for (const row of next.rows) {
    const key = rowKey(row);
    pending.set(key, [...(pending.get(key) ?? []), row]);
  }
  const pairs: [Row | null, Row | null][] = [];
  let matched = 0;
  for (const row of base.rows) {
    const other = pending.get(rowKey(row))?.shift() ?? null;
    if (other !== null) matched++;
    pairs.push([view(row, null), other && view(other, row)]);
  }
  for (const row of next.rows) {
    // Whatever is still pending had no partner in base; take each exactly once, in next's order.
    const queue = pending.get(rowKey(row));
    if (queue !== undefined && queue[0] === row) pairs.push([null, view(queue.shift()!, null)]);
  }
  // m: the figures that will be judged against their noise, counted at any confidence.
  const judgedFigures = pairs
    .map(([b, n]) => rowChange(b, n, options.thresholdPct, 0.95))
    .filter((r) => r.gates)
    .flatMap((r) => Object.values(r.metrics ?? {}))
    .filter((m) => m.noise !== 'unknown').length;
  const confidence = figureConfidence(judgedFigures);
  const rows = pairs.map(([b, n]) => rowChange(b, n, options.thresholdPct, confidence));
  const speeds = [base.speed?.reader?.medianNs, next.speed?.reader?.medianNs];
  const senders = [base.speed?.sender?.medianNs, next.speed?.sender?.medianNs];
  return {
    kind: 'capbench.comparison',
    thresholdPct: options.thresholdPct,
    judgedFigures,
    figureConfidence: confidence,
    judged,
    judgedNote,
    newMachineSlower:
      speeds[0] && speeds[1]
        ? {
            reader: speeds[1] / speeds[0] - 1,
            sender: senders[0] && senders[1] ? senders[1] / senders[0] - 1 : null,
          }
        : null,
    base,
    next,
    rows,
    matched,
  };
}

export interface Regression {
  row: RowChange;
  change: MetricChange;
}

export function regressions(comparison: Comparison): Regression[] {
  return comparison.rows.flatMap((row) =>
    row.regressed.map((m) => ({ row, change: row.metrics![m] })),
  );
}

/**
 * The compare command's exit status: 2 when the files have no row in common (they measured
 * different things), 1 when some row that ran cleanly in both got slower beyond both the threshold
 * and the noise, or a drain count beyond COUNT_TOLERANCE, 0 otherwise. Faster rows, added or removed rows, unavailable or failed rows never
 * fail a comparison.
 */
export function exitStatus(comparison: Comparison): 0 | 1 | 2 {
  if (comparison.matched === 0) return 2;
  return regressions(comparison).length > 0 || countRegressions(comparison).length > 0 ? 1 : 0;
}

/** Rows whose drain counts got worse beyond COUNT_TOLERANCE: "socket-mmsg/js drain: calls/pkt ×2.00". */
export function countRegressions(
  comparison: Comparison,
): { row: RowChange; change: CountChange }[] {
  return comparison.rows.flatMap((row) =>
    row.counts.filter((c) => c.regressed).map((change) => ({ row, change })),
  );
}

export function isComparison(input: Results | Comparison): input is Comparison {
  return (input as Comparison).kind === 'capbench.comparison';
}
