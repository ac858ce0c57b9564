/**
 * The payload sweep under `capbench send`'s table (several --payload values): cycles per KiB of
 * payload against payload for every L4 row, drawn as bars on a log scale, and where each
 * zero-copy method starts to cost less per KiB than its copying twin, or that it never does here.
 */
import type { SendResults, SendRow } from '../core/send-results.js';
import { DASH, whole } from './format-number.js';

const BAR = 24;
/** A zero-copy method and the method that copies the same way. */
const PAIRS: readonly (readonly [string, string])[] = [
  ['udp-zerocopy', 'udp-send'],
  ['io-uring-send-zc', 'io-uring-send'],
  ['tcp-zerocopy', 'tcp-send'],
];

const perKiB = (r: SendRow | undefined): number | null => r?.summary?.cyclesPerKiB.mean ?? null;

/** The row's cycles per KiB as an interval: its mean ± its margin of error (95 %). */
function interval(r: SendRow): [number, number] {
  const s = r.summary!.cyclesPerKiB;
  const m = (s.mean * (s.rme ?? 0)) / 100;
  return [s.mean - m, s.mean + m];
}

/** Bars whose length is log(value), from the smallest to the largest value shown. */
function logBar(v: number, lo: number, hi: number): string {
  const span = Math.log(hi) - Math.log(lo);
  const n = span > 0 ? Math.round(((Math.log(v) - Math.log(lo)) / span) * (BAR - 1)) + 1 : BAR;
  return '█'.repeat(n);
}

/**
 * Where a zero-copy method becomes cheaper per KiB than its copying twin: the smallest payload
 * from which its whole interval lies below the twin's, at every payload measured above it too.
 */
function crossover(
  rows: readonly SendRow[],
  zc: string,
  plain: string,
  tier: string,
): string | null {
  const at = (m: string): Map<number, SendRow> =>
    new Map(
      rows
        .filter((r) => r.method === m && r.tier === tier && r.payload !== null && r.ok)
        .map((r) => [r.payload!, r]),
    );
  const z = at(zc);
  const p = at(plain);
  const payloads = [...z.keys()].filter((k) => p.has(k)).sort((a, b) => a - b);
  if (payloads.length < 2) return null;
  const cheaper = payloads.map((k) => interval(z.get(k)!)[1] < interval(p.get(k)!)[0]);
  const from = cheaper.findIndex((_, i) => cheaper.slice(i).every(Boolean));
  const copied = payloads.map((k) => z.get(k)!.summary?.zerocopy).filter((c) => c != null);
  const allCopied =
    copied.length > 0 && copied.every((c) => c.completions > 0 && c.copied === c.completions);
  const why = allCopied
    ? ': every completion came back marked copied, so on veth zero-copy only adds pinning and completions to a copy the receiving socket makes anyway'
    : '';
  const measured = payloads.map(whole).join(', ');
  if (from < 0)
    return `${zc}/${tier}: no crossover here: not cheaper per KiB than ${plain} beyond the margins of error at any payload measured (${measured})${why}`;
  return `${zc}/${tier}: cheaper per KiB than ${plain} beyond the margins of error from ${whole(payloads[from]!)} bytes on (measured ${measured})`;
}

export function renderPayloadSweep(r: SendResults): string[] {
  // A sweep is what --payload asked for: several payloads, not methods' different defaults.
  if ((r.config.payloads?.length ?? 0) < 2) return [];
  const rows = r.rows.filter((row) => row.payload !== null && row.summary !== null);
  const values = rows.map(perKiB).filter((v): v is number => v !== null && v > 0);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const label = (row: SendRow): string => `${row.method}/${row.tier}`;
  const width = Math.max(...rows.map((row) => label(row).length));
  const out = ['', 'Payload sweep: send cycles per KiB of payload (log scale; shorter is cheaper)'];
  for (const row of rows) {
    const v = perKiB(row);
    out.push(
      `${label(row).padEnd(width)}  ${whole(row.payload).padStart(7)} B  ${(v === null ? DASH : whole(v)).padStart(9)}  ${v !== null && v > 0 ? logBar(v, lo, hi) : ''}`,
    );
  }
  const tiers = [...new Set(rows.map((row) => row.tier))];
  const lines = PAIRS.flatMap(([zc, plain]) => tiers.map((t) => crossover(rows, zc, plain, t)));
  const said = lines.filter((l): l is string => l !== null);
  if (said.length > 0) out.push('', ...said);
  return out;
}
