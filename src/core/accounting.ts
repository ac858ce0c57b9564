/**
 * Pure functions from measured counts to the figures and verdicts a row reports: cycles per
 * packet, the loss accounting (sent == received + drops), and the IPv4 check. Kept apart from the
 * runner so they can be tested without a kernel.
 */
import type { CpuUsage } from './cpu-time.js';
import type { CycleSource, CyclesPerPacket, DropCounts, TrialResult } from './results.js';

/**
 * /proc/stat counts 10 ms ticks per CPU, so a busy-time difference is uncertain by about a tick
 * per CPU at each end of the window. Below this much window per CPU the system figure would be
 * mostly rounding, and is not reported.
 */
export const MIN_SYSTEM_WINDOW_SEC_PER_CPU = 0.5;

export interface Baseline {
  /** System-wide busy CPU-seconds per second with nothing capturing, same traffic. */
  busyPerSec: number;
  /**
   * Live mode: the same per frame the generator sent. At the generator's maximum rate a capturing
   * row sends fewer frames (on veth the delivery runs on the sender's CPU), so what the baseline
   * spends on the frames the row actually sent is the fair thing to subtract. null in drain mode,
   * where nothing is sent during the timed window.
   */
  busyPerSentFrame: number | null;
}

/** What the machine did during measurement windows. */
export interface WindowLoad {
  cpu: CpuUsage;
  windowSec: number;
  /** Frames delivered to the counter. */
  packets: number;
  /** Frames the generator sent during the window (live), null when none or unknown. */
  sent: number | null;
}

/** Busy time the baseline would have spent over the same window and traffic. */
function baselineBusy(baseline: Baseline, load: WindowLoad): number {
  return baseline.busyPerSentFrame !== null && load.sent !== null
    ? baseline.busyPerSentFrame * load.sent
    : baseline.busyPerSec * load.windowSec;
}

export function cyclesPerPacket(load: WindowLoad, tscHz: number, baseline: Baseline | null, source: CycleSource): CyclesPerPacket {
  const { cpu, packets } = load;
  if (packets <= 0) return { thread: null, user: null, sys: null, system: null, source };
  const perPacket = (sec: number): number => (sec * tscHz) / packets;
  const sampled = cpu.threadUserSec + cpu.threadSysSec;
  return {
    thread: perPacket(cpu.threadSec),
    user: sampled > 0 ? perPacket((cpu.threadSec * cpu.threadUserSec) / sampled) : null,
    sys: sampled > 0 ? perPacket((cpu.threadSec * cpu.threadSysSec) / sampled) : null,
    system: baseline ? perPacket(Math.max(0, cpu.systemBusySec - baselineBusy(baseline, load))) : null,
    source,
  };
}

/**
 * A row's cycles from all its trials together: CPU time summed over windows ÷ packets summed, so
 * that short windows do not get the weight of long ones. The system figure is left out when the
 * windows together are too short for /proc/stat's ticks (see MIN_SYSTEM_WINDOW_SEC_PER_CPU).
 */
export function rowCycles(
  trials: readonly WindowLoad[],
  cpus: number,
  tscHz: number,
  baseline: Baseline | null,
  source: CycleSource,
): CyclesPerPacket {
  const sum = (f: (t: WindowLoad) => number): number => trials.reduce((a, t) => a + f(t), 0);
  const windowSec = sum((t) => t.windowSec);
  const total: CpuUsage = {
    threadSec: sum((t) => t.cpu.threadSec),
    threadUserSec: sum((t) => t.cpu.threadUserSec),
    threadSysSec: sum((t) => t.cpu.threadSysSec),
    systemBusySec: sum((t) => t.cpu.systemBusySec),
  };
  const longEnough = windowSec >= MIN_SYSTEM_WINDOW_SEC_PER_CPU * cpus;
  const sent = trials.every((t) => t.sent !== null) ? sum((t) => t.sent ?? 0) : null;
  const load: WindowLoad = { cpu: total, windowSec, packets: sum((t) => t.packets), sent };
  return cyclesPerPacket(load, tscHz, longEnough ? baseline : null, source);
}

export function totalDrops(d: DropCounts): number {
  return d.senderIf + d.captureIf + d.method;
}

export interface Verdict {
  ok: boolean;
  reason: string | null;
}

/**
 * The checks every row must pass. Drain: nothing may be lost and the IPv4 count is exact. Live:
 * the accounting must close, and the IPv4 count is exact when nothing was dropped, else within
 * [expected − dropped, expected].
 */
export function checkTrial(t: TrialResult, mode: 'drain' | 'live', ipv4Expected: number | null, derived: boolean): Verdict {
  const dropped = totalDrops(t.drops);
  if (t.sent !== null) {
    if (t.received > t.sent) {
      return { ok: false, reason: `received ${t.received} frames but only ${t.sent} were sent: the capture interface is not quiet` };
    }
    if (!derived && t.received + dropped !== t.sent) {
      return {
        ok: false,
        reason: `accounting does not close: sent ${t.sent} ≠ received ${t.received} + dropped ${dropped} (${t.sent - t.received - dropped} unaccounted)`,
      };
    }
    if (mode === 'drain' && t.received !== t.sent) {
      return { ok: false, reason: `drain lost ${t.sent - t.received} of ${t.sent} frames (buffer too small or frames missing)` };
    }
  }
  if (ipv4Expected !== null && t.ipv4Counted !== null) {
    const lo = ipv4Expected - dropped;
    if (t.ipv4Counted > ipv4Expected || t.ipv4Counted < lo) {
      const want = dropped === 0 ? `${ipv4Expected}` : `${Math.max(0, lo)}..${ipv4Expected}`;
      return { ok: false, reason: `counted ${t.ipv4Counted} IPv4 frames, the fixture says ${want}` };
    }
  }
  return { ok: true, reason: null };
}

export function sumDrops(trials: readonly TrialResult[]): DropCounts {
  return trials.reduce(
    (a, t) => ({
      senderIf: a.senderIf + t.drops.senderIf,
      captureIf: a.captureIf + t.drops.captureIf,
      method: a.method + t.drops.method,
    }),
    { senderIf: 0, captureIf: 0, method: 0 },
  );
}
