/**
 * Pure functions from measured counts to the figures and verdicts a row reports: cycles per
 * packet (deliver, read, total), the loss accounting (sent == received + drops), and the IPv4
 * check. Kept apart from the runner so they can be tested without a kernel.
 */
import type { CpuUsage } from './cpu-time.js';
import type {
  WindowSpeed,
  CycleSource,
  CyclesPerPacket,
  DeliverSource,
  DeliveryMeasure,
  DropCounts,
  DropsSource,
  SystemDelivery,
  TrialResult,
} from './results.js';
import { rme } from './statistics.js';

/**
 * /proc/stat counts 10 ms ticks per CPU, so a busy-time difference is uncertain by about a tick
 * per CPU at each end of the window. Below this much window per CPU a figure made from it would
 * be mostly rounding, and is not reported.
 */
export const MIN_SYSTEM_WINDOW_SEC_PER_CPU = 0.5;

/**
 * Fewer packets than this and a per-packet figure (cycles, latency, a margin of error) is mostly
 * whatever else the window did, divided by a handful of stray frames (an example: bench/README.md,
 * "Figures behind design choices in the code"). Below it those figures are null, and a window
 * with traffic from elsewhere is judged to have had none.
 */
export const MIN_PACKETS = 1000;

/** What the same traffic cost with nothing attached: the reference `deliver` is charged against. */
export interface Baseline {
  /** System-wide busy CPU-seconds per second with nothing capturing (the `none` row's windows). */
  busyPerSec: number;
  /**
   * Live mode: the same per frame the generator sent. At the generator's maximum rate a capturing
   * row sends fewer frames (on veth the delivery runs on the sender's CPU), so what the baseline
   * spends on the frames the row actually sent is the fair thing to subtract. null in drain mode.
   */
  busyPerSentFrame: number | null;
  /** Live mode on the test bed: generator thread + ksoftirqd CPU seconds per frame sent. */
  senderPerFrame: number | null;
  /**
   * Drain: the twin generator's mean CPU seconds per frame over every fill of the point. Each
   * fill's delivery is measured as a ratio to its own twin, which the machine's speed does not
   * move; this scale turns the ratio back into time.
   */
  twinPerFrame: number | null;
  /**
   * Two-port mode: machine-wide busy seconds less the reading thread's, over the phases that
   * delivered the `none` windows' frames, per frame sent. null elsewhere.
   */
  systemPerFrame: number | null;
}

/** What the machine did during one measurement window. */
export interface WindowLoad {
  cpu: CpuUsage;
  windowSec: number;
  /** Frames delivered to the counter. */
  packets: number;
  /** Frames the generator sent during the window (live), null when none or unknown. */
  sent: number | null;
  /** Sender-side clocks over the phase that delivered the frames; null without a test bed. */
  delivery: DeliveryMeasure | null;
  /** The speed probe around the window (core/drift.ts); null where it was not run. */
  speed: WindowSpeed | null;
}

/** deliver in CPU-seconds per packet, how it was measured, and why not when it could not be. */
interface Deliver {
  secPerPacket: number | null;
  source: DeliverSource | null;
  note: string | null;
}

/** Sender-side CPU seconds per frame sent: the generator thread and ksoftirqd. */
function senderPerFrame(d: DeliveryMeasure): number {
  return (d.senderSec + d.softirqSec) / d.sent;
}

/**
 * One window's delivery cost per packet from the sender's clocks: against the twin that ran
 * beside its fill, scaled by the twin's mean cost, or (live) against the `none` windows. What
 * delivering the frames cost is charged to the packets that reached the counter.
 */
function senderDeliver(d: DeliveryMeasure, packets: number, baseline: Baseline | null): Deliver {
  if (d.sent <= 0) return { secPerPacket: null, source: null, note: 'nothing was sent' };
  if (d.twinSec !== null && d.twinSent !== null) {
    const source = 'sender-clocks-vs-twin';
    if (d.twinSent <= 0 || d.twinSec <= 0)
      return { secPerPacket: null, source, note: 'the twin generator sent nothing' };
    if (!baseline?.twinPerFrame)
      return { secPerPacket: null, source, note: 'no twin cost measured in this run' };
    const ratio = senderPerFrame(d) / (d.twinSec / d.twinSent);
    return {
      secPerPacket: ((ratio - 1) * baseline.twinPerFrame * d.sent) / packets,
      source,
      note: null,
    };
  }
  const source = 'sender-clocks-vs-none';
  if (baseline?.senderPerFrame == null)
    return { secPerPacket: null, source, note: 'no none baseline in this run' };
  return {
    secPerPacket: ((senderPerFrame(d) - baseline.senderPerFrame) * d.sent) / packets,
    source,
    note: null,
  };
}

function baselineBusy(baseline: Baseline, load: Pick<WindowLoad, 'sent' | 'windowSec'>): number {
  return baseline.busyPerSentFrame !== null && load.sent !== null
    ? baseline.busyPerSentFrame * load.sent
    : baseline.busyPerSec * load.windowSec;
}

/** What `loads` add up to, and whether /proc/stat's ticks can resolve it. */
function sumLoads(
  loads: readonly WindowLoad[],
  cpus: number,
): { cpu: CpuUsage; windowSec: number; packets: number; sent: number | null; longEnough: boolean } {
  const sum = (f: (t: WindowLoad) => number): number => loads.reduce((a, t) => a + f(t), 0);
  const windowSec = sum((t) => t.windowSec);
  return {
    cpu: {
      threadSec: sum((t) => t.cpu.threadSec),
      threadUserSec: sum((t) => t.cpu.threadUserSec),
      threadSysSec: sum((t) => t.cpu.threadSysSec),
      systemBusySec: sum((t) => t.cpu.systemBusySec),
    },
    windowSec,
    packets: sum((t) => t.packets),
    sent: loads.every((t) => t.sent !== null) ? sum((t) => t.sent ?? 0) : null,
    longEnough: windowSec >= MIN_SYSTEM_WINDOW_SEC_PER_CPU * cpus,
  };
}

/**
 * Two-port mode: what the machine spent delivering the frames, beyond the reading thread and what
 * the same frames cost with nothing attached, if the phases are long enough for /proc/stat.
 */
function twoPortDeliver(
  loads: readonly WindowLoad[],
  cpus: number,
  baseline: Baseline | null,
): Deliver {
  const source = 'system-busy-two-port';
  if (baseline?.systemPerFrame == null)
    return { secPerPacket: null, source, note: 'no none baseline in this run' };
  const phases = loads.map((l) => l.delivery!.system!);
  const wallSec = phases.reduce((a, p) => a + p.wallSec, 0);
  if (wallSec < MIN_SYSTEM_WINDOW_SEC_PER_CPU * cpus) {
    return {
      secPerPacket: null,
      source,
      note: `/proc/stat counts 10 ms ticks: needs ${MIN_SYSTEM_WINDOW_SEC_PER_CPU * cpus} s of delivery in all (more --count, --trials or --duration)`,
    };
  }
  const spent = phases.reduce((a, p) => a + p.busySec - p.readerSec, 0);
  const sent = loads.reduce((a, l) => a + l.delivery!.sent, 0);
  const packets = loads.reduce((a, l) => a + l.packets, 0);
  return {
    secPerPacket: (spent - baseline.systemPerFrame * sent) / packets,
    source,
    note: "machine-wide busy time: on a NIC the receive path runs on the receiving port's interrupt CPU, out of the sender's clocks",
  };
}

/**
 * deliver over all of a row's windows: from the sender's clocks, each window's figure weighted by
 * its packets; in two-port mode, from the machine's busy time over the delivering phases; without
 * capbench's traffic (--iface alone), from /proc/stat busy time, if the windows are long enough.
 */
function rowDeliver(
  loads: readonly WindowLoad[],
  cpus: number,
  baseline: Baseline | null,
): Deliver {
  if (loads.length > 0 && loads.every((l) => l.delivery?.system != null))
    return twoPortDeliver(loads, cpus, baseline);
  const withClocks = loads.filter((l) => l.delivery !== null);
  if (withClocks.length === loads.length) {
    let sec = 0;
    let packets = 0;
    for (const l of loads) {
      const d = senderDeliver(l.delivery!, l.packets, baseline);
      if (d.secPerPacket === null) return d;
      sec += d.secPerPacket * l.packets;
      packets += l.packets;
    }
    return {
      secPerPacket: sec / packets,
      source: senderDeliver(loads[0]!.delivery!, 1, baseline).source,
      note: null,
    };
  }
  const source = 'system-busy-vs-none';
  if (!baseline) return { secPerPacket: null, source, note: 'no none baseline in this run' };
  const total = sumLoads(loads, cpus);
  if (!total.longEnough) {
    return {
      secPerPacket: null,
      source,
      note: `/proc/stat counts 10 ms ticks: needs ${MIN_SYSTEM_WINDOW_SEC_PER_CPU * cpus} s of windows in all`,
    };
  }
  const busy = total.cpu.systemBusySec - total.cpu.threadSec - baselineBusy(baseline, total);
  return {
    secPerPacket: busy / total.packets,
    source,
    note: 'machine-wide busy time: traffic from elsewhere has no sender clock to read',
  };
}

/** What rowCycles is asked: whether deliver is measured at all (--deliver). */
export interface RowCyclesOptions {
  deliver?: boolean;
}

export const DELIVER_OFF_NOTE = 'not measured (--deliver off): read alone';

/**
 * A deliver below zero: the reference cost more than the row's frames did. The clocks it was
 * taken from did not hold the kernel's delivery for this row, whatever the reason (under qemu the
 * emulated NIC runs in whichever guest context touches it; on a NIC the receive softirq may land
 * in the reading thread), so it is no measurement and is not printed.
 */
function belowZero(d: Deliver): Deliver {
  const why = d.note === null ? '' : ` (${d.note})`;
  return {
    secPerPacket: null,
    source: d.source,
    note: `measured below zero${why}: the reference cost more than this row's frames, so the clocks did not hold its delivery`,
  };
}

/** A row's cycles when none were measured: every figure null, the clock source named. */
export function noCycles(source: CycleSource): CyclesPerPacket {
  return {
    deliver: null,
    read: null,
    total: null,
    totalRme: null,
    deliverSource: null,
    deliverNote: null,
    user: null,
    sys: null,
    systemBusy: null,
    source,
  };
}

/**
 * A row's cycles from its windows: deliver as above; read from the reading thread's CPU time
 * summed over windows ÷ packets summed, so that short windows do not get the weight of long
 * ones; total = deliver + read, with the margin of error of the per-window totals. (The `none`
 * row is the reference, not a row with cycles: rows.ts buildBaselineRow.)
 */
export function rowCycles(
  loads: readonly WindowLoad[],
  cpus: number,
  tscHz: number,
  baseline: Baseline | null,
  source: CycleSource,
  options: RowCyclesOptions = {},
): CyclesPerPacket {
  const total = sumLoads(loads, cpus);
  if (total.packets < MIN_PACKETS) {
    return {
      ...noCycles(source),
      deliverNote: `${total.packets} packets reached the counter, fewer than ${MIN_PACKETS}: too few for a per-packet figure`,
    };
  }
  const cycles = (sec: number, packets = total.packets): number => (sec * tscHz) / packets;
  const { cpu } = total;
  const sampled = cpu.threadUserSec + cpu.threadSysSec;
  const read = cycles(cpu.threadSec);
  const measured =
    options.deliver === false
      ? { secPerPacket: null, source: null, note: DELIVER_OFF_NOTE }
      : rowDeliver(loads, cpus, baseline);
  const deliver =
    measured.secPerPacket !== null && measured.secPerPacket < 0 ? belowZero(measured) : measured;
  const deliverCycles = deliver.secPerPacket === null ? null : deliver.secPerPacket * tscHz;
  // Per-window totals for the margin of error: each window's deliver against the same reference.
  const perWindow = loads.map((l) => {
    const d = rowDeliver([l], cpus, baseline).secPerPacket;
    return d === null || l.packets < MIN_PACKETS
      ? null
      : d * tscHz + cycles(l.cpu.threadSec, l.packets);
  });
  const windowTotals = perWindow.every((t) => t !== null) ? perWindow : [];
  return {
    deliver: deliverCycles,
    read,
    total: deliverCycles === null ? null : deliverCycles + read,
    totalRme: deliverCycles === null ? null : rme(windowTotals),
    deliverSource: deliver.source,
    deliverNote: deliver.note,
    user: sampled > 0 ? cycles((cpu.threadSec * cpu.threadUserSec) / sampled) : null,
    sys: sampled > 0 ? cycles((cpu.threadSec * cpu.threadSysSec) / sampled) : null,
    systemBusy:
      baseline && total.longEnough
        ? cycles(Math.max(0, cpu.systemBusySec - baselineBusy(baseline, total)))
        : null,
    source,
  };
}

/** The reference for `deliver`, from the `none` row's windows and every drain fill's twin. */
export function baselineFrom(
  noneLoads: readonly WindowLoad[],
  allLoads: readonly WindowLoad[],
  mode: 'drain' | 'live',
): Baseline | null {
  const twins = allLoads
    .map((l) => l.delivery)
    .filter((d): d is DeliveryMeasure => d?.twinSec != null && (d.twinSent ?? 0) > 0);
  const twinSec = twins.reduce((a, d) => a + d.twinSec!, 0);
  const twinSent = twins.reduce((a, d) => a + d.twinSent!, 0);
  const twinPerFrame = twinSent > 0 ? twinSec / twinSent : null;
  if (noneLoads.length === 0) {
    return twinPerFrame === null
      ? null
      : {
          busyPerSec: 0,
          busyPerSentFrame: null,
          senderPerFrame: null,
          twinPerFrame,
          systemPerFrame: null,
        };
  }
  const sum = (f: (l: WindowLoad) => number): number => noneLoads.reduce((a, l) => a + f(l), 0);
  const sent = sum((l) => l.sent ?? 0);
  const clocked = noneLoads.every((l) => l.delivery !== null && l.delivery.sent > 0);
  const system = (l: WindowLoad): SystemDelivery | null => l.delivery?.system ?? null;
  const systemClocked = clocked && noneLoads.every((l) => system(l) !== null);
  return {
    busyPerSec:
      sum((l) => (l.windowSec > 0 ? l.cpu.systemBusySec / l.windowSec : 0)) / noneLoads.length,
    busyPerSentFrame: mode === 'live' && sent > 0 ? sum((l) => l.cpu.systemBusySec) / sent : null,
    senderPerFrame:
      mode === 'live' && clocked
        ? sum((l) => l.delivery!.senderSec + l.delivery!.softirqSec) / sum((l) => l.delivery!.sent)
        : null,
    twinPerFrame,
    systemPerFrame: systemClocked
      ? sum((l) => system(l)!.busySec - system(l)!.readerSec) / sum((l) => l.delivery!.sent)
      : null,
  };
}

/**
 * What the interfaces' counters mean, by what carries the frames from the generator's port to
 * the capture port:
 * - veth (the test bed, or a veth pair in two-port mode): the receive path runs inside the
 *   sender's transmit, so a frame the receiving side refuses (its input backlog full) is refused
 *   to the sender: counted as tx_dropped at the sender's end, as rx_dropped at the capture end
 *   and in /proc/net/softnet_stat, and handed back to the generator as ENOBUFS, which sends it
 *   again. Backpressure, not loss.
 * - wire (two NIC ports): the transmit path ends at the cable. A frame the sending NIC's driver
 *   took and then dropped or failed to send (tx_dropped, tx_errors) was counted sent and is lost;
 *   a full transmit ring is refused before it is taken (NETDEV_TX_BUSY) and resent without being
 *   counted anywhere. At the capture port, every drop is loss: rx_dropped (an input-backlog drop
 *   there is a frame no one will send again), rx_missed_errors, rx_errors.
 */
export type LinkKind = 'veth' | 'wire';

/** What a window's interfaces and method said, as differences over the window. */
export interface WindowCounts {
  link: LinkKind;
  /** rx_packets and rx_dropped of the capture interface. */
  captureRx: number;
  captureDropped: number;
  /** rx_missed_errors + rx_errors of the capture interface: lost before the kernel saw them. */
  captureNicLost: number;
  /**
   * The generator's port: tx_dropped (veth: refusals it resent), plus tx_errors on a wire (frames
   * it counted sent and lost); 0 when capbench sends nothing.
   */
  senderDropped: number;
  /** Input-backlog drops machine-wide, and the twin's share of them (its capture end's rx_dropped). */
  backlogDrops: number;
  twinDropped: number;
  /** The method's own drop count, null when it cannot report one. */
  methodDrops: number | null;
  /**
   * Frames delivered to the counter; null for the `none` baseline, which has no reader: the
   * interface's own counters say what arrived.
   */
  counted: number | null;
  /** Frames the generator sent; null when the traffic came from elsewhere. */
  sent: number | null;
}

/**
 * Where a window's frames went (see LinkKind). On veth, every frame the sender's end refuses
 * (tx_dropped: its peer's backlog or ring was full) comes back to the generator as ENOBUFS and is
 * sent again, so none of what `sent` counts is lost at the sender end; the refusals are reported
 * as `resent`. A backlog drop is also counted as rx_dropped at the capture interface, so only the
 * rest of rx_dropped is loss there; the machine-wide backlog count includes the twin's frames,
 * which are not this method's. On a wire, the sender's tx_dropped and tx_errors are loss at the
 * sender, and all of rx_dropped is loss at the capture port. Either way a NIC's rx_missed_errors
 * and rx_errors are loss at the capture port. The baseline has no reader: what the interface
 * handed to the kernel (rx_packets, which counts neither a veth's backlog drops nor what a NIC
 * missed) less what the kernel then dropped is its "received". A method that cannot count its own
 * drops has them derived from the sent count, if there is one, and unknown otherwise.
 */
export function windowLoss(c: WindowCounts): {
  received: number;
  drops: DropCounts;
  resent: number;
  dropsSource: DropsSource;
} {
  const veth = c.link === 'veth';
  const stackDropped = veth
    ? Math.max(0, c.captureDropped - (c.backlogDrops - c.twinDropped))
    : c.captureDropped;
  const captureIf = stackDropped + c.captureNicLost;
  const senderIf = veth ? 0 : c.senderDropped;
  const baseline = c.counted === null;
  const received = c.counted ?? c.captureRx - stackDropped;
  const dropsSource: DropsSource =
    baseline || c.methodDrops !== null ? 'kernel' : c.sent !== null ? 'derived' : 'unknown';
  const method = baseline
    ? 0
    : c.methodDrops !== null
      ? c.methodDrops
      : c.sent !== null
        ? Math.max(0, c.sent - received - captureIf - senderIf)
        : null;
  return {
    received,
    drops: { senderIf, captureIf, method },
    resent: veth ? c.senderDropped : 0,
    dropsSource,
  };
}

/** All drops of a window or row; null when the method's part is unknown. */
export function totalDrops(d: DropCounts): number | null {
  return d.method === null ? null : d.senderIf + d.captureIf + d.method;
}

export interface Verdict {
  ok: boolean;
  reason: string | null;
}

/** How a trial is judged: the mode, what the fixture says, and where its traffic came from. */
export interface TrialCheck {
  mode: 'drain' | 'live';
  /** IPv4 frames the fixture says were sent; null when not known (baseline, --iface). */
  ipv4Expected: number | null;
  /** The method's drops were derived from sent − received, so the accounting closes by construction. */
  derived: boolean;
  /** The interface captured on, for a verdict about traffic that did not arrive. */
  iface: string;
  /** Two-port mode: the port capbench's generator sent from. */
  genIface?: string | null;
}

/**
 * The checks every row must pass. Traffic from elsewhere (no sent count): at least MIN_PACKETS
 * must have arrived, or there is nothing to judge a method by. Drain: nothing may be lost and the
 * IPv4 count is exact. Live: the accounting must close, and the IPv4 count is exact when nothing
 * was dropped, else within [expected − dropped, expected].
 */
export function checkTrial(t: TrialResult, check: TrialCheck): Verdict {
  const dropped = totalDrops(t.drops);
  if (t.sent === null && t.received < MIN_PACKETS) {
    return {
      ok: false,
      reason: `no traffic: ${t.received} frames arrived on ${check.iface} in ${t.windowSec.toFixed(1)} s, fewer than ${MIN_PACKETS}: is the generator running?`,
    };
  }
  if (t.sent !== null) {
    if (
      check.genIface != null &&
      t.sent > 0 &&
      t.received === 0 &&
      (check.derived || dropped === 0)
    ) {
      return {
        ok: false,
        reason: `none of ${t.sent} frames sent on ${check.genIface} arrived on ${check.iface}, and neither port counted a drop: are the two ports cabled to each other?`,
      };
    }
    if (t.received > t.sent) {
      return {
        ok: false,
        reason: `received ${t.received} frames but only ${t.sent} were sent: the capture interface is not quiet`,
      };
    }
    if (!check.derived && dropped !== null && t.received + dropped !== t.sent) {
      return {
        ok: false,
        reason: `accounting does not close: sent ${t.sent} ≠ received ${t.received} + dropped ${dropped} (${t.sent - t.received - dropped} unaccounted)`,
      };
    }
    if (check.mode === 'drain' && t.received !== t.sent) {
      return {
        ok: false,
        reason: `drain lost ${t.sent - t.received} of ${t.sent} frames (buffer too small or frames missing)`,
      };
    }
  }
  if (check.ipv4Expected !== null && t.ipv4Counted !== null && dropped !== null) {
    const lo = check.ipv4Expected - dropped;
    if (t.ipv4Counted > check.ipv4Expected || t.ipv4Counted < lo) {
      const want =
        dropped === 0 ? `${check.ipv4Expected}` : `${Math.max(0, lo)}..${check.ipv4Expected}`;
      return {
        ok: false,
        reason: `counted ${t.ipv4Counted} IPv4 frames, the fixture says ${want}`,
      };
    }
  }
  return { ok: true, reason: null };
}

export function sumDrops(trials: readonly TrialResult[]): DropCounts {
  return trials.reduce<DropCounts>(
    (a, t) => ({
      senderIf: a.senderIf + t.drops.senderIf,
      captureIf: a.captureIf + t.drops.captureIf,
      method: a.method === null || t.drops.method === null ? null : a.method + t.drops.method,
    }),
    { senderIf: 0, captureIf: 0, method: 0 },
  );
}
