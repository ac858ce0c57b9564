/**
 * bench:ci's A/B rounds as one Results per side: the windows of every round's run of one side, as
 * if one run had taken them all. Each run's figures at reference speed are relative to its own
 * reference (its median speed probe); here they are brought to one reference for both sides, the
 * median probe over every round of both, so that compare judges base and candidate alike.
 */
import type { AtReferenceSpeed, Results, Row, TrialAtReferenceSpeed } from '../src/core/results.js';
import { rme } from '../src/core/statistics.js';
import { rowKey } from '../src/report/compare.js';

type Reference = AtReferenceSpeed['reference'];

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median of the runs' references, per CPU role: one reference for every round of both sides. */
export function commonReference(runs: readonly Results[]): Reference | null {
  const refs = runs
    .flatMap((r) => r.rows.map((row) => row.normalised?.reference ?? null))
    .filter((x): x is Reference => x !== null);
  if (refs.length === 0) return null;
  const senders = refs.map((r) => r.senderNs).filter((s): s is number => s !== null);
  return {
    readerNs: median(refs.map((r) => r.readerNs)),
    senderNs: senders.length === refs.length ? median(senders) : null,
  };
}

/** A window's figures at `from`'s reference, at `to`'s instead (see report/compare.ts atReferenceSpeed). */
function rescale(t: TrialAtReferenceSpeed, from: Reference, to: Reference): TrialAtReferenceSpeed {
  const fr = to.readerNs / from.readerNs;
  const fs = to.senderNs !== null && from.senderNs !== null ? to.senderNs / from.senderNs : fr;
  const deliver = t.deliver === null ? null : t.deliver * fs;
  const read = t.read === null ? null : t.read * fr;
  return {
    deliver,
    read,
    total: deliver === null || read === null ? null : deliver + read,
    pps: t.pps === null ? null : t.pps / fr,
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;

function merged(rows: readonly Row[], to: Reference | null): Row {
  const first = rows[0]!;
  const trials = rows.flatMap((row) =>
    row.trials.map((t) => {
      const from = row.normalised?.reference ?? null;
      const at = t.atReferenceSpeed ?? null;
      return to === null || from === null || at === null
        ? t
        : { ...t, atReferenceSpeed: rescale(at, from, to) };
    }),
  );
  const of = (f: (t: (typeof trials)[number]) => number | null): number[] | null => {
    const v = trials.map(f);
    return v.every((x) => x !== null) ? v : null;
  };
  const paid = (f: (t: (typeof trials)[number]) => number | null): number | null => {
    const v = of(f);
    return v === null ? null : mean(v);
  };
  const atRef = (f: (a: TrialAtReferenceSpeed) => number | null): number[] | null =>
    of((t) => (t.atReferenceSpeed ? f(t.atReferenceSpeed) : null));
  const totals = atRef((a) => a.total);
  const reads = atRef((a) => a.read);
  const rates = atRef((a) => a.pps);
  const delivers = atRef((a) => a.deliver);
  const ppsSamples = trials.map((t) => t.pps ?? 0);
  const ok = rows.every((r) => r.ok);
  return {
    ...first,
    ok,
    reason: rows.find((r) => r.reason !== null)?.reason ?? null,
    trials,
    sent: rows.every((r) => r.sent !== null) ? rows.reduce((a, r) => a + r.sent!, 0) : null,
    received: rows.reduce((a, r) => a + r.received, 0),
    pps: mean(ppsSamples),
    ppsSamples,
    ppsRme: rme(ppsSamples),
    cyclesPerPacket: {
      ...first.cyclesPerPacket,
      deliver: paid((t) => t.cyclesPerPacket.deliver),
      read: paid((t) => t.cyclesPerPacket.read),
      total: paid((t) => t.cyclesPerPacket.total),
      totalRme: (() => {
        const v = of((t) => t.cyclesPerPacket.total);
        return v === null ? null : rme(v);
      })(),
    },
    normalised:
      to === null || reads === null
        ? null
        : {
            deliver: delivers && mean(delivers),
            read: mean(reads),
            total: totals && mean(totals),
            readRme: rme(reads),
            totalRme: totals && rme(totals),
            pps: rates && mean(rates),
            ppsRme: rates && rme(rates),
            reference: to,
          },
  };
}

/** The runs of one side as one Results: rows matched by key, trials in round order. */
export function mergeRounds(runs: readonly Results[], to: Reference | null): Results {
  const first = runs[0]!;
  const byKey = new Map<string, Row[]>();
  for (const run of runs)
    for (const row of run.rows) byKey.set(rowKey(row), [...(byKey.get(rowKey(row)) ?? []), row]);
  return {
    ...first,
    rows: first.rows.map((row) => {
      const all = byKey.get(rowKey(row))!;
      return all.every((r) => r.available) ? merged(all, to) : row;
    }),
    stopping: first.stopping && {
      ...first.stopping,
      rounds: runs.reduce((a, r) => a + (r.stopping?.rounds ?? 0), 0),
    },
  };
}
