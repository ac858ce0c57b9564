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

/** Bars whose length is log(value), from the smallest to the largest value shown. */
function logBar(v: number, lo: number, hi: number): string {
  const span = Math.log(hi) - Math.log(lo);
  const n = span > 0 ? Math.round(((Math.log(v) - Math.log(lo)) / span) * (BAR - 1)) + 1 : BAR;
  return '█'.repeat(n);
}

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
  const wins = payloads.filter((k) => perKiB(z.get(k))! < perKiB(p.get(k))!);
  const copied = payloads.map((k) => z.get(k)!.summary?.zerocopy).filter((c) => c != null);
  const allCopied =
    copied.length > 0 && copied.every((c) => c.completions > 0 && c.copied === c.completions);
  const why = allCopied
    ? ' every completion came back marked copied (SO_EE_CODE_ZEROCOPY_COPIED): on veth the pages reach a local socket and are copied there, so zero-copy only adds its pinning and completions'
    : '';
  if (wins.length === 0)
    return `${zc}/${tier}: no crossover here: it costs more per KiB than ${plain} at every payload measured (${payloads.join(', ')});${why}`;
  return `${zc}/${tier}: cheaper per KiB than ${plain} from ${whole(wins[0]!)} bytes (at ${wins.map(whole).join(', ')})${why ? ';' + why : ''}`;
}

export function renderPayloadSweep(r: SendResults): string[] {
  const rows = r.rows.filter((row) => row.payload !== null && row.summary !== null);
  const payloads = [...new Set(rows.map((row) => row.payload!))];
  if (payloads.length < 2) return [];
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
