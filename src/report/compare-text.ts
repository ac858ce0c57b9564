/**
 * A Comparison as a table: one line per metric of each matched row, then the rows only one file
 * has, then one sentence saying whether anything got slower beyond the threshold and the noise.
 * The cycles line names the figure compared (total or read), and the footer says why a row fell
 * back to read.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { methodLabel, type Results } from '../core/results.js';
import {
  changeLabel,
  COUNT_TOLERANCE,
  countRegressions,
  METRICS,
  pointLabel,
  regressions,
  trafficLabel,
  type Comparison,
  type Metric,
  type MetricChange,
  type RowChange,
} from './compare.js';
import { DASH, si, whole } from './format-number.js';
import { columnLayout } from './columns.js';

export interface CompareTextOptions {
  color: boolean;
}

const HEADERS = ['method', 'tier', 'mode', 'point', 'metric', 'base', 'new', 'change', 'verdict'];
const RIGHT = new Set([5, 6, 7]);

/** "+4.2%", "−30.0%" (a real minus sign, as the rest of the tables use typographic signs). */
export function signedPercent(fraction: number): string {
  const p = fraction * 100;
  const digits = Math.abs(p) < 10 ? 1 : 0;
  const text = Math.abs(p).toFixed(digits);
  return `${p < 0 && Number(text) !== 0 ? '−' : '+'}${text}%`;
}

/** "−30.0% ±2.1%", or "±?" when the noise could not be judged. */
export function changeText(m: MetricChange): string {
  if (m.change === null) return DASH;
  const u =
    m.uncertainty === null
      ? '±?'
      : `±${(m.uncertainty * 100).toFixed(m.uncertainty < 0.1 ? 1 : 0)}%`;
  return `${signedPercent(m.change)} ${u}`;
}

export function verdictText(m: MetricChange, thresholdPct: number): string {
  if (m.verdict === 'n/a') return 'not compared';
  if (m.verdict !== 'same') return m.verdict;
  return m.within === 'noise' ? 'same (noise)' : `same (<${thresholdPct}%)`;
}

function value(metric: Metric, n: number | null): string {
  return metric === 'pps' ? si(n) : whole(n);
}

function paint(text: string, m: MetricChange, gates: boolean, c: ChalkInstance): string {
  if (m.verdict === 'slower') return gates ? c.red.bold(text) : c.red(text);
  if (m.verdict === 'faster') return c.green(text);
  return c.dim(text);
}

/** Why a matched row cannot fail the comparison, or null when it can. */
function notGated(row: RowChange): string | null {
  if (row.gates) return null;
  const state = (r: typeof row.base, which: string): string | null =>
    r === null
      ? null
      : !r.available
        ? `unavailable in ${which}`
        : !r.ok
          ? `failed in ${which}`
          : null;
  const why = [state(row.base, 'base'), state(row.next, 'new')].filter((s) => s !== null);
  return why.length > 0 ? why.join(', ') : null;
}

function lines(
  row: RowChange,
  thresholdPct: number,
  c: ChalkInstance,
  notes: string[],
): string[][] {
  const r = (row.next ?? row.base)!;
  const point = r.point === null ? DASH : pointLabel(r.point);
  const id = [methodLabel(r), r.tier, r.mode, point];
  const blank = id.map(() => '');
  if (row.metrics === null) {
    const which = row.status === 'added' ? 'only in new' : 'only in base';
    return [
      [
        ...id,
        METRICS.pps.label,
        row.base ? value('pps', row.base.pps) : DASH,
        row.next ? value('pps', row.next.pps) : DASH,
        DASH,
        c.dim(which),
      ],
    ];
  }
  const why = notGated(row);
  let note = '';
  if (why !== null) {
    notes.push(`[${notes.length + 1}] ${row.label}: ${why}; reported, never fails the comparison`);
    note = ` [${notes.length}]`;
  }
  const metrics = (Object.keys(METRICS) as Metric[]).map((metric, i) => {
    const m = row.metrics![metric];
    return [
      ...(i === 0 ? id : blank),
      changeLabel(m),
      value(metric, m.base),
      value(metric, m.next),
      changeText(m),
      paint(verdictText(m, thresholdPct), m, row.gates, c) + (i === 0 ? c.dim(note) : ''),
    ];
  });
  const counts = row.counts.map((k) => [
    ...blank,
    k.name,
    countValue(k.base),
    countValue(k.next),
    `×${k.ratio.toFixed(2)}`,
    k.regressed
      ? c.red.bold('worse')
      : Math.abs(k.ratio - 1) <= COUNT_TOLERANCE
        ? c.dim('same')
        : c.dim(k.gated ? 'changed' : 'changed (not gated)'),
  ]);
  return [...metrics, ...counts];
}

function countValue(n: number): string {
  return n >= 100 ? whole(n) : n >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** How the figures were judged, and how much faster or slower the base machine ran. */
function judgedLine(comparison: Comparison): string {
  if (comparison.judged === 'paid') {
    return comparison.judgedNote === null
      ? 'judged on what the machines paid (--raw): a change of machine speed between the runs counts as a change'
      : `judged on what the machines paid: ${comparison.judgedNote}`;
  }
  const s = comparison.newMachineSlower;
  const pct = (f: number): string =>
    `${Math.abs(f * 100).toFixed(1)}% ${f >= 0 ? 'slower' : 'faster'}`;
  const speeds =
    s === null
      ? ''
      : `; by the speed probes the new run's machine ran ${pct(s.reader)} than the base's on the reader's CPU` +
        (s.sender === null ? '' : `, ${pct(s.sender)} on the sender's`);
  return `judged at reference speed: each window's cycles and rate scaled by the speed probe around it, the new run's to the base run's reference${speeds}`;
}

function describe(results: Results): string {
  const { config, host } = results;
  const traffic =
    config.iface !== null ? trafficLabel(results) : (config.fixturePath.split('/').pop() ?? '');
  // A run with a rounds rule measured more rounds than config.trials (its minimum).
  const rounds = results.stopping?.rounds ?? config.trials;
  return `${results.startedAt}, ${config.mode}, ${traffic}, ${rounds} rounds; ${host.cpus} × ${host.cpuModel}, Linux ${host.kernel}`;
}

/** What the ± margins are: 95 % for every figure together, so each at 1 − 5 %/m. */
function noiseLine(c: Comparison): string {
  const each = (c.figureConfidence * 100).toFixed(c.judgedFigures > 1 ? 1 : 0);
  return c.judgedFigures > 1
    ? `noise margins at 95% for the ${c.judgedFigures} figures judged together (each at ${each}%, Bonferroni): identical code should fail at most 1 comparison in 40`
    : 'noise margin at 95%';
}

/** Why rows were compared on read: each side that had no total, with its deliverNote, once each. */
function readFallbacks(c: Comparison): string[] {
  const why = new Set<string>();
  for (const row of c.rows) {
    if (row.metrics?.cycles.figure !== 'read') continue;
    for (const [which, r] of [
      ['base', row.base],
      ['new', row.next],
    ] as const) {
      if (r !== null && r.cyclesPerPacket.total === null)
        why.add(`  ${which}: ${r.cyclesPerPacket.deliverNote ?? 'deliver not measured'}`);
    }
  }
  return why.size === 0
    ? []
    : ['cyc/pkt read: compared on the capturing thread alone where a row has no total:', ...why];
}

/** Differences that make a comparison less meaningful, worth a line above the table. */
function caveats(c: Comparison): string[] {
  const out: string[] = [];
  const { base, next } = c;
  if (base.host.cpuModel !== next.host.cpuModel || base.host.cpus !== next.host.cpus)
    out.push('the two runs were on different machines');
  if (base.config.fixturePath.split('/').pop() !== next.config.fixturePath.split('/').pop())
    out.push('the fixtures differ');
  if (
    base.config.mode === 'drain' &&
    next.config.mode === 'drain' &&
    base.config.count !== next.config.count
  )
    out.push('--count differs');
  if (base.config.rate !== next.config.rate) out.push('the offered rate differs');
  return out;
}

export function renderComparisonText(comparison: Comparison, options: CompareTextOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const notes: string[] = [];
  const body = comparison.rows.flatMap((row) => lines(row, comparison.thresholdPct, c, notes));
  const line = columnLayout([HEADERS, ...body], (i) => RIGHT.has(i));

  const out = [
    c.bold(
      `capbench compare: threshold ${comparison.thresholdPct}%, change = new ÷ base − 1, ± is its noise margin`,
    ),
    noiseLine(comparison),
    `base: ${describe(comparison.base)}`,
    `new:  ${describe(comparison.next)}`,
    judgedLine(comparison),
  ];
  const warn = caveats(comparison);
  if (warn.length > 0) out.push(c.yellow(`note: ${warn.join('; ')}`));
  out.push('', c.bold(line(HEADERS)), ...body.map(line));
  out.push(
    '',
    "same (noise): within its noise margin (Welch's t-test over the trials); ±?: too few trials to tell",
    `same (<${comparison.thresholdPct}%): smaller than the threshold, though beyond the noise or with the noise unknown`,
    'cyc/pkt total: deliver + read, what a packet costs the machine; compared where both rows have it, else read',
    ...(comparison.rows.some((r) => r.counts.length > 0)
      ? [
          `calls/pkt, pkts/batch (drain): set by the method and its batch, not by the machine's speed: worse beyond ${COUNT_TOLERANCE * 100}% fails the comparison (pkts/batch only where a batch is one call's: a ring block's fill depends on its retire timer)`,
        ]
      : []),
    ...readFallbacks(comparison),
  );
  if (notes.length > 0) out.push('', ...notes);

  const bad = regressions(comparison);
  const counts = countRegressions(comparison);
  out.push('');
  if (comparison.matched === 0) {
    out.push(
      c.red(
        'no rows in common: the two files measured different methods, tiers, modes or sweep points',
      ),
    );
  } else if (bad.length === 0 && counts.length === 0) {
    out.push(
      c.green(
        `no regressions beyond ${comparison.thresholdPct}% and the noise (${comparison.matched} rows compared)`,
      ),
    );
  } else {
    const n = bad.length + counts.length;
    const drainCounts =
      counts.length === 0 ? '' : `, or in a drain count beyond ${COUNT_TOLERANCE * 100}%`;
    out.push(
      c.red.bold(
        `${n} regression${n === 1 ? '' : 's'} beyond ${comparison.thresholdPct}% and the noise${drainCounts}:`,
      ),
    );
    for (const { row, change } of bad)
      out.push(c.red(`  ${row.label} ${changeLabel(change)}: ${changeText(change)}`));
    for (const { row, change } of counts)
      out.push(c.red(`  ${row.label} ${change.name} ×${change.ratio.toFixed(2)}`));
  }
  return out.join('\n') + '\n';
}
