/**
 * github-action-benchmark's custom format: a JSON list of {name, unit, value, range, extra}. That
 * action fixes "bigger is better" or "smaller is better" per file (tool: customBiggerIsBetter /
 * customSmallerIsBetter), so pps and cycles/pkt are two separate outputs: renderGha(x, 'pps') for
 * the first tool, renderGha(x, 'cycles') for the second. ghaCyclesPath() names the second file.
 *
 * Only rows that ran and passed their checks are listed: an unavailable row has no figure, and a
 * failed row's figure is not a measurement the tracker should plot or alert on. From a
 * Comparison, the new file's rows are listed, with the change against base in `extra`.
 *
 * The cycles value is total (deliver + read), what a packet costs the machine; a row whose deliver
 * was not measured gives read instead. The figure ends the entry's name ("… total", "… read"),
 * so the two never share a series in the tracker. A row measured with speed probes has a second
 * entry at reference speed ("… total @ reference speed", core/drift.ts), a series of its own:
 * an existing series never changes meaning.
 */
import { methodOptionsText } from './method-options-text.js';
import type { Results, Row } from '../core/results.js';
import { changeText, verdictText } from './compare-text.js';
import {
  benchmarkName,
  headlineCycles,
  isComparison,
  type Comparison,
  type Metric,
  type RowChange,
} from './compare.js';
import { whole } from './format-number.js';

export interface GhaEntry {
  name: string;
  unit: string;
  value: number;
  /** "±2.3%": the 95% relative margin of error; absent when there was no spread to measure. */
  range?: string;
  /** Free text shown in the action's chart tooltip. */
  extra: string;
}

export type GhaMetric = Metric;

/** github-action-benchmark tool name for each metric's file. */
export const GHA_TOOL: Readonly<
  Record<GhaMetric, 'customBiggerIsBetter' | 'customSmallerIsBetter'>
> = {
  pps: 'customBiggerIsBetter',
  cycles: 'customSmallerIsBetter',
};

const UNIT: Readonly<Record<GhaMetric, string>> = { pps: 'pps', cycles: 'cycles/pkt' };

/** "out/bench.json" → "out/bench.cycles.json"; "bench" → "bench.cycles". */
export function ghaCyclesPath(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.cycles${path.slice(dot)}` : `${path}.cycles`;
}

/** The suffix of a series at reference speed. */
export const AT_REFERENCE_SPEED = ' @ reference speed';

/** The value, its margin, and for cycles which figure it is: each figure is a series of its own. */
function measure(
  row: Row,
  metric: GhaMetric,
  atReference: boolean,
): { value: number | null; rme: number | null; suffix: string } {
  if (atReference) {
    const n = row.normalised ?? null;
    if (n === null) return { value: null, rme: null, suffix: '' };
    if (metric === 'pps') return { value: n.pps, rme: n.ppsRme, suffix: AT_REFERENCE_SPEED };
    return n.total !== null
      ? { value: n.total, rme: n.totalRme, suffix: ` total${AT_REFERENCE_SPEED}` }
      : { value: n.read, rme: n.readRme, suffix: ` read${AT_REFERENCE_SPEED}` };
  }
  if (metric === 'pps') return { value: row.pps, rme: row.ppsRme, suffix: '' };
  const h = headlineCycles(row);
  return h === null
    ? { value: null, rme: null, suffix: '' }
    : { value: h.value, rme: h.rme, suffix: ` ${h.figure}` };
}

/** What the cycles value is made of, and where deliver came from or why it is missing. */
function cyclesLine(row: Row): string {
  const cpp = row.cyclesPerPacket;
  const made =
    cpp.total !== null
      ? `total = deliver ${whole(cpp.deliver)} + read ${whole(cpp.read)} cycles/pkt${cpp.deliverSource === null ? '' : `; deliver from ${cpp.deliverSource}`}`
      : `read only (the capturing thread): deliver not measured${cpp.deliverNote === null ? '' : `, ${cpp.deliverNote}`}`;
  return `${made}; cycles from ${cpp.source}; system busy Δ ${whole(cpp.systemBusy)} cycles/pkt (cross-check)`;
}

function hostLine(results: Results): string {
  const { host, config } = results;
  return [
    `${host.cpus} × ${host.cpuModel}, Linux ${host.kernel}, Node ${host.node}`,
    `${config.mode}${config.mode === 'drain' ? ` ${config.count} frames` : ` ${config.durationSec} s`}, rate ${config.rate}, ` +
      `${config.trials} trials, ${methodOptionsText(config)}`,
  ].join('\n');
}

interface Against {
  change: RowChange;
  thresholdPct: number;
}

function entry(
  row: Row,
  results: Results,
  metric: GhaMetric,
  against: Against | undefined,
  atReference: boolean,
): GhaEntry | null {
  if (!row.available || !row.ok) return null;
  const { value, rme, suffix } = measure(row, metric, atReference);
  if (value === null || !Number.isFinite(value)) return null;
  const extra = [hostLine(results)];
  if (atReference)
    extra.push(
      "at reference speed: each window scaled by the speed probe around it to the run's median; for comparing runs, not what was paid",
    );
  if (metric === 'cycles') extra.push(cyclesLine(row));
  if (rme !== null && rme > results.config.noisyRme)
    extra.push('noisy: margin of error above --noisy-rme');
  const m = against?.change.metrics?.[metric];
  if (against !== undefined && m !== undefined)
    extra.push(
      `vs base${m.figure === null ? '' : ` (${m.figure})`}: ${changeText(m)}, ${verdictText(m, against.thresholdPct)}`,
    );
  return {
    name: benchmarkName(row, results) + suffix,
    unit: UNIT[metric],
    value,
    ...(rme === null ? {} : { range: `±${rme.toFixed(2)}%` }),
    extra: extra.join('\n'),
  };
}

export function ghaEntries(input: Results | Comparison, metric: GhaMetric): GhaEntry[] {
  const results = isComparison(input) ? input.next : input;
  const against = new Map<Row, Against>();
  if (isComparison(input)) {
    for (const change of input.rows)
      if (change.next !== null)
        against.set(change.next, { change, thresholdPct: input.thresholdPct });
  }
  const entries = results.rows
    .flatMap((row) =>
      [false, true].map((atRef) => entry(row, results, metric, against.get(row), atRef)),
    )
    .filter((e): e is GhaEntry => e !== null);
  return uniqueNames(entries);
}

/** Names must be unique or the action merges two series into one; a repeated name gets " #2". */
export function uniqueNames<T extends { name: string }>(entries: T[]): T[] {
  const seen = new Map<string, number>();
  return entries.map((e) => {
    const count = (seen.get(e.name) ?? 0) + 1;
    seen.set(e.name, count);
    return count === 1 ? e : { ...e, name: `${e.name} #${count}` };
  });
}

export function renderGha(input: Results | Comparison, metric: GhaMetric): string {
  return JSON.stringify(ghaEntries(input, metric), null, 2) + '\n';
}
