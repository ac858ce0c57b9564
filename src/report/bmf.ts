/**
 * Bencher Metric Format (BMF) JSON for `bencher run --adapter json`:
 *   { "<benchmark>": { "throughput": {value, lower_value, upper_value}, "total-cycles-per-packet": {...} } }
 * "throughput" is Bencher's built-in measure (operations per second: here packets per second);
 * the cycles measure is created by Bencher on first upload: "total-cycles-per-packet" (deliver +
 * read), or "read-cycles-per-packet" where a row's deliver was not measured, so that the two are
 * never one series. The bounds are the 95% interval of the mean (pps: ppsRme;
 * cycles: totalRme, else the spread of the trials' figures) and are left out where there is no
 * spread to go by. A row measured with speed probes adds the same at reference speed, as measures
 * of their own ("…-at-reference-speed", core/drift.ts). As for github-action-benchmark, only rows
 * that ran and passed their checks are listed, and from a Comparison the new file's rows.
 */
import type { Results, Row } from '../core/results.js';
import { benchmarkName, headlineCycles, isComparison, type Comparison } from './compare.js';
import { uniqueNames } from './gha.js';

export interface BmfMetric {
  value: number;
  lower_value?: number;
  upper_value?: number;
}

export type BmfMeasure =
  | 'throughput'
  | 'total-cycles-per-packet'
  | 'read-cycles-per-packet'
  | 'throughput-at-reference-speed'
  | 'total-cycles-per-packet-at-reference-speed'
  | 'read-cycles-per-packet-at-reference-speed';

export type Bmf = Record<string, Partial<Record<BmfMeasure, BmfMetric>>>;

function metric(value: number | null, rmePct: number | null): BmfMetric | null {
  if (value === null || !Number.isFinite(value)) return null;
  if (rmePct === null || !Number.isFinite(rmePct)) return { value };
  const half = (Math.abs(value) * rmePct) / 100;
  return { value, lower_value: value - half, upper_value: value + half };
}

function measures(row: Row): Partial<Record<BmfMeasure, BmfMetric>> {
  const out: Partial<Record<BmfMeasure, BmfMetric>> = {};
  const throughput = metric(row.pps, row.ppsRme);
  const headline = headlineCycles(row);
  const cycles = headline === null ? null : metric(headline.value, headline.rme);
  if (throughput !== null) out.throughput = throughput;
  if (cycles !== null)
    out[headline!.figure === 'total' ? 'total-cycles-per-packet' : 'read-cycles-per-packet'] =
      cycles;
  // At reference speed (core/drift.ts): measures of their own, so no series changes meaning.
  const n = row.normalised ?? null;
  if (n !== null) {
    const rate = metric(n.pps, n.ppsRme);
    const atRef = n.total !== null ? metric(n.total, n.totalRme) : metric(n.read, n.readRme);
    if (rate !== null) out['throughput-at-reference-speed'] = rate;
    if (atRef !== null)
      out[
        n.total !== null
          ? 'total-cycles-per-packet-at-reference-speed'
          : 'read-cycles-per-packet-at-reference-speed'
      ] = atRef;
  }
  return out;
}

export function bmf(input: Results | Comparison): Bmf {
  const results = isComparison(input) ? input.next : input;
  const named = uniqueNames(
    results.rows
      .filter((row) => row.available && row.ok)
      .map((row) => ({ name: benchmarkName(row, results), measures: measures(row) }))
      .filter((b) => Object.keys(b.measures).length > 0),
  );
  return Object.fromEntries(named.map((b) => [b.name, b.measures]));
}

export function renderBmf(input: Results | Comparison): string {
  return JSON.stringify(bmf(input), null, 2) + '\n';
}
