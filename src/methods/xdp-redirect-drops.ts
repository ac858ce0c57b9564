/**
 * A frame an AF_XDP socket refuses (no fill-ring entry, a full rx ring) also fails the driver's
 * XDP redirect, which some drivers (veth) count as the interface's rx_dropped. The accounting
 * already charges the interface's drops to the row, so a method reading an AF_XDP socket (af-xdp,
 * dpdk's af_xdp PMD) reports only the part of its socket's drops the interface has not counted:
 * sent = received + interface drops + method drops then holds once, not with the drops twice.
 */
import { readFileSync } from 'node:fs';
import type { SessionStats } from '../core/method.js';

export function readNumber(path: string): number | null {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** The interface's rx_dropped since now, as a function to read it later. */
export function interfaceDropsSince(ifname: string): () => number {
  const path = `/sys/class/net/${ifname}/statistics/rx_dropped`;
  const at0 = readNumber(path);
  return () => {
    const now = readNumber(path);
    return now !== null && at0 !== null ? Math.max(0, now - at0) : 0;
  };
}

/** A socket's drops less the part the interface has already counted; seen likewise, if known. */
export function withoutInterfaceDrops(s: SessionStats, ifDrops: number): SessionStats {
  const sockDrops = s.drops ?? 0;
  const drops = sockDrops - Math.min(sockDrops, ifDrops);
  return { ...s, seen: s.seen === null ? null : s.seen - sockDrops + drops, drops };
}
