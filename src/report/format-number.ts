/** Number formats shared by the text reporters: short, fixed-width friendly, honest about absence. */

export const DASH = '—';

/** 1234567 → "1.23 M", 12345 → "12.3 k". */
export function si(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return DASH;
  // Thresholds just below each unit, so that 999,999 reads "1.00 M", not "1000.0 k".
  const abs = Math.abs(n);
  if (abs >= 0.9995e9) return `${(n / 1e9).toFixed(2)} G`;
  if (abs >= 0.9995e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

export function whole(n: number | null): string {
  return n === null || !Number.isFinite(n) ? DASH : Math.round(n).toLocaleString('en-US');
}

export function percent(n: number | null): string {
  return n === null || !Number.isFinite(n) ? DASH : `±${n < 10 ? n.toFixed(1) : n.toFixed(0)}%`;
}

/** A delay in ns with a unit that keeps it short: "48 µs", "2.6 ms", "1.20 s". */
export function delay(ns: number): string {
  const us = ns / 1000;
  if (us < 10) return `${us.toFixed(1)} µs`;
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 1 : 0)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
