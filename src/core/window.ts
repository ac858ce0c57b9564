/**
 * One measurement window of one method and tier: the procedure behind every trial.
 *
 * drain: open the method, let the generator send `count` frames while nobody reads, wait until
 *   the kernel has all of them where the method can read, then time the consumer alone until it
 *   has read them all. A twin generator thread on the same CPU sends the same frames into the
 *   test bed's uncaptured twin veth for as long as the fill lasts: the kernel's delivery into the
 *   method is the fill's extra cost over the twin's, measured at the same moments.
 * live: open the method, start the generator for `durationSec` at the offered rate, capture
 *   while it runs, then read the tail already on its way. No twin here: two paced generators on
 *   one CPU differ per frame too much to be each other's reference, even with nothing attached
 *   to either (which of them sleeps and which spins is up to the scheduler; bench/README.md,
 *   "Figures behind design choices in the code"), and flat out a twin would halve the offered
 *   rate; the `none` baseline's windows are the reference instead.
 *
 * The reader's CPU is sampled around the timed part; the sender side's (generator thread and
 * ksoftirqd clocks) around the phase that delivers the frames, and in two-port mode the machine's
 * too: there the receive path runs on the capture port's interrupt CPU, not in the sender's
 * thread. Loss is read from the interfaces and the method.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { totalDrops, windowLoss, type LinkKind, type WindowLoad } from './accounting.js';
import {
  switchesBetween,
  usageBetween,
  type CpuSnapshot,
  type CpuUsage,
  type ThreadSwitches,
} from './cpu-time.js';
import { throwIfAborted } from './consume-loop.js';
import { LatencySampler, summarizeLatency } from './latency.js';
import type { Mode, Tier } from './config.js';
import type { CaptureMethod, CaptureSession, MethodOptions, ThreadCounts } from './method.js';
import type { Generator, WindowMachine } from './machine.js';
import type {
  WindowCounts,
  WindowSpeed,
  DeliveryMeasure,
  DropsSource,
  SystemDelivery,
  ThreadTrial,
  TrialResult,
} from './results.js';
import { countersDelta, type InterfaceCounters } from '../net/interface-stats.js';
import type { TrafficSpec, TrafficStatus } from '../net/generator.js';
import { expectedIpv4, largestFrame, type Fixture } from '../net/fixture.js';

/** A drain that sees nothing new for this long has lost frames; stop waiting for them. */
const DRAIN_IDLE_MS = 500;
/** After the generator stops, the tail is read until nothing arrives for this long. */
const TAIL_IDLE_MS = 100;
/** How long the baseline looks at an idle machine in drain mode. */
const BASELINE_IDLE_MS = 300;
/** Limit on waiting for the kernel to account every sent frame to the method. */
const SETTLE_LIMIT_MS = 2000;
/** Polls, 10 ms apart, that the method's count must stay still before settle() gives up on the rest. */
const SETTLE_QUIET_POLLS = 5;
/**
 * On a wire, how long to wait for a NIC's counters to account for every frame sent: drivers fold
 * hardware counters (rx_missed_errors) into the interface's statistics from a periodic task, every
 * 2 s for e1000, igb and ixgbe.
 */
const NIC_COUNTERS_LAG_MS = 3000;
const NIC_COUNTERS_POLL_MS = 100;

/** What a window of the `none` baseline is: where the frames go and how, with nothing attached. */
export interface BaselineSpec {
  mode: Mode;
  captureIf: string;
  /** Where to read the generator's port's counters (netns null: this namespace); null when capbench sends nothing. */
  sender: { ifname: string; netns: string | null } | null;
  /** The traffic to send; null when it comes from outside (--iface alone). */
  traffic: Omit<TrafficSpec, 'count' | 'durationMs'> | null;
  /** What carries the frames from the sender to the capture interface: what their counters mean. */
  link: LinkKind;
  /**
   * Where the delivery's CPU is read: the sender's clocks (veth delivers inside the sender's
   * transmit), or the machine's too (two-port mode, DeliveryMeasure.system).
   */
  deliveryClock: 'sender' | 'system';
  /** The twin veth pair, whose sender end drain fills send the same frames into; null in live mode. */
  twin: { senderIf: string; captureIf: string } | null;
  fixture: Fixture;
  count: number;
  durationSec: number;
  options: MethodOptions;
  /**
   * Where the speed probe runs around the window (core/drift.ts): the reading thread's CPU (each
   * reader thread's) and the sender's; -1 for one left unpinned. null: no probe.
   */
  probeCpus: { readers: readonly number[]; sender: number } | null;
  /** The machine: what the window touches, and for the row's cycles (rows.ts) its TSC rate and CPUs. */
  machine: WindowMachine;
  tscHz: number;
  cpus: number;
  signal: AbortSignal;
}

/** A window of a capture method: the baseline's, and the method and tier that read the frames. */
export interface WindowSpec extends BaselineSpec {
  method: CaptureMethod;
  tier: Tier;
}

export interface WindowResult {
  /** The trial as measured; its cycles are computed with the whole point's reference (rows.ts). */
  trial: Omit<TrialResult, 'cyclesPerPacket'>;
  /** What the machine spent over the window, for those cycles. */
  load: WindowLoad;
  /** Whether the method's drops came from the kernel, were derived as sent − received, or are unknown. */
  dropsSource: DropsSource;
  /** Sampled send-to-counter latencies (ns), for the row to pool; empty when not measured. */
  latencySamples: readonly number[];
}

interface Counters {
  capture: InterfaceCounters;
  sender: InterfaceCounters | null;
  /** rx_dropped of the twin's capture end: input-backlog drops of the twin's frames. */
  twinDropped: number;
  backlogDrops: number;
}

async function readAll(spec: BaselineSpec): Promise<Counters> {
  const m = spec.machine;
  const [capture, sender, twin, backlogDrops] = await Promise.all([
    m.readCounters(spec.captureIf, null),
    spec.sender ? m.readCounters(spec.sender.ifname, spec.sender.netns) : Promise.resolve(null),
    spec.twin ? m.readCounters(spec.twin.captureIf, null) : Promise.resolve(null),
    m.readBacklogDrops(),
  ]);
  return { capture, sender, twinDropped: twin?.rxDropped ?? 0, backlogDrops };
}

/** Frames the capture port has taken in or lost since `before`: for a reader with no count of its own. */
async function portArrived(spec: BaselineSpec, before: Counters): Promise<number> {
  const c = countersDelta(await spec.machine.readCounters(spec.captureIf, null), before.capture);
  return c.rxPackets + c.rxMissed + c.rxErrors;
}

/**
 * Where a fill's frames are counted as they reach the reader, to know when they all have: the
 * session's own count, or, in two-port mode where the reader keeps none (the baseline, `pcap`),
 * the capture port's counters, since the port's receive path runs apart from the sender and its
 * CPU belongs to the fill. null: nothing to wait on.
 */
function arrivals(
  spec: BaselineSpec,
  session: CaptureSession | null,
  before: Counters,
): (() => Promise<number | null>) | null {
  const own = session?.stats().seen ?? null;
  if (own !== null) return () => Promise.resolve(session!.stats().seen);
  return spec.deliveryClock === 'system' ? () => portArrived(spec, before) : null;
}

/**
 * Waits until `sent` frames have arrived, or the count has stopped moving (frames lost before the
 * method, at the interface, never reach it) for SETTLE_QUIET_POLLS polls: one quiet poll is not
 * enough where the sender's backlog can pause for a whole poll (seen under qemu: bench/README.md,
 * "Figures behind design choices in the code"); then for `settleMs` (ring block retirement).
 */
async function settle(
  spec: BaselineSpec,
  arrived: (() => Promise<number | null>) | null,
  sent: number,
  settleMs: number,
): Promise<void> {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let last = -1;
  let quiet = 0;
  while (arrived) {
    throwIfAborted(spec.signal);
    const seen = await arrived();
    quiet = seen === last ? quiet + 1 : 0;
    if (
      seen === null ||
      seen >= sent ||
      quiet >= SETTLE_QUIET_POLLS ||
      performance.now() > deadline
    )
      break;
    last = seen;
    await sleep(10);
  }
  await sleep(settleMs);
}

function stopQuietly(gen: Generator | null): void {
  try {
    gen?.stop();
  } catch {
    // Already failing for another reason; that one is the error to report.
  }
}

/**
 * The reading threads' CPU added to the waiting thread's: a spread session's readers ran only
 * inside its consume() calls, all of them within the timed part.
 */
function withReaders(cpu: CpuUsage, readers: readonly ThreadCounts[]): CpuUsage {
  const sum = (f: (t: ThreadCounts) => number): number => readers.reduce((a, t) => a + f(t), 0);
  return {
    ...cpu,
    threadSec: cpu.threadSec + sum((t) => t.cpuSec),
    threadUserSec: cpu.threadUserSec + sum((t) => t.userSec),
    threadSysSec: cpu.threadSysSec + sum((t) => t.sysSec),
  };
}

/** The machine's clocks between two snapshots, as two-port mode keeps them (DeliveryMeasure.system). */
function systemDelivery(a: CpuSnapshot, b: CpuSnapshot): SystemDelivery {
  const u = usageBetween(a, b);
  return { busySec: u.systemBusySec, readerSec: u.threadSec, wallSec: b.wallSec - a.wallSec };
}

type Traffic = NonNullable<BaselineSpec['traffic']>;

function trafficOf(spec: BaselineSpec): Traffic {
  if (!spec.traffic) throw new Error("drain mode needs capbench's own traffic");
  return spec.traffic;
}

/** What a fill leaves: what was sent, and the sender side's (and in two-port mode the machine's) clocks over it. */
interface Filled {
  delivery: DeliveryMeasure;
  threadSent: readonly number[];
}

/**
 * Fills the reader's buffer while nobody reads; the sender side's clocks over the fill, and in
 * two-port mode the machine's, until the kernel has every frame where the reader reads it. A
 * session that reads on the event loop (`pcap`) is kept from it until then.
 */
async function fill(
  spec: BaselineSpec,
  session: CaptureSession | null,
  before: Counters,
): Promise<Filled> {
  const m = spec.machine;
  const traffic = trafficOf(spec);
  const settleMs = session?.settleMs ?? 0;
  const onEventLoop = session?.readsOnEventLoop === true;
  const c0 = spec.deliveryClock === 'system' ? m.cpuSnapshot('start') : null;
  const softirq0 = m.softirqCpuSec();
  // The twin starts first and stops last, so it runs through the whole of the fill.
  const twin =
    spec.twin &&
    m.startGenerator({ ...traffic, ifname: spec.twin.senderIf, count: 0, durationMs: 0 });
  let gen: Generator | null = null;
  let filled: TrafficStatus;
  let twinFilled: TrafficStatus | null;
  try {
    gen = m.startGenerator({ ...traffic, count: spec.count, durationMs: 0 });
    filled = onEventLoop ? gen.waitBlocking() : await gen.wait(spec.signal);
    twinFilled = twin?.stop() ?? null;
  } catch (err) {
    stopQuietly(gen);
    stopQuietly(twin);
    throw err;
  }
  if (onEventLoop) spec.machine.sleepBlocking(settleMs);
  else await settle(spec, arrivals(spec, session, before), filled.sent, settleMs);
  const system = c0 && systemDelivery(c0, m.cpuSnapshot('end'));
  const delivery = {
    senderSec: filled.cpuNs / 1e9,
    softirqSec: m.softirqCpuSec() - softirq0,
    sent: filled.sent,
    twinSec: twinFilled && twinFilled.cpuNs / 1e9,
    twinSent: twinFilled && twinFilled.sent,
    system,
  };
  return { delivery, threadSent: filled.threadSent };
}

/** What a live window's traffic did: what was sent (null: traffic from elsewhere) and the clocks over it. */
interface Sent {
  sent: number | null;
  threadSent: readonly number[];
  delivery: DeliveryMeasure | null;
}

/**
 * Offers traffic for the window's duration (when capbench sends any) while `during` runs, and
 * stops it; `during` gets the running generator, or null, and returns when the window ends.
 */
async function offer(
  spec: BaselineSpec,
  stamp: boolean,
  during: (gen: Generator | null) => Promise<number>,
): Promise<Sent & { tEnd: number }> {
  let gen: Generator | null = null;
  try {
    gen =
      spec.traffic &&
      spec.machine.startGenerator({
        ...spec.traffic,
        count: 0,
        durationMs: spec.durationSec * 1000,
        stamp,
      });
    const tEnd = await during(gen);
    const final = gen?.stop() ?? null;
    if (!final) return { tEnd, sent: null, threadSent: [], delivery: null };
    const delivery = {
      senderSec: final.cpuNs / 1e9,
      softirqSec: 0,
      sent: final.sent,
      twinSec: null,
      twinSent: null,
      system: null,
    };
    return { tEnd, sent: final.sent, threadSent: final.threadSent, delivery };
  } catch (err) {
    stopQuietly(gen);
    throw err;
  }
}

/** ksoftirqd's share, and in two-port mode the machine's clocks over the whole live window. */
function liveDelivery(
  spec: BaselineSpec,
  delivery: DeliveryMeasure | null,
  softirq0: number,
  c0: CpuSnapshot,
  c1: CpuSnapshot,
): void {
  if (!delivery) return;
  delivery.softirqSec = spec.machine.softirqCpuSec() - softirq0;
  // Live, the frames are delivered throughout the window: the machine's clocks over all of it.
  if (spec.deliveryClock === 'system') delivery.system = systemDelivery(c0, c1);
}

/**
 * Where a window's frames went, from the interfaces' counters since `before` and the reader's
 * (null: nothing attached, so the interface says what arrived). On a wire, read again until the
 * counters account for every frame sent, or for NIC_COUNTERS_LAG_MS: a NIC folds its hardware
 * counters in from a periodic task.
 */
async function lossSince(
  spec: BaselineSpec,
  before: Counters,
  sent: number | null,
  reader: { counted: number; drops: () => number | null } | null,
): Promise<ReturnType<typeof windowLoss>> {
  const read = async (): Promise<ReturnType<typeof windowLoss>> => {
    const after = await readAll(spec);
    const capture = countersDelta(after.capture, before.capture);
    const sender =
      after.sender && before.sender ? countersDelta(after.sender, before.sender) : null;
    return windowLoss({
      link: spec.link,
      captureRx: capture.rxPackets,
      captureDropped: capture.rxDropped,
      captureNicLost: capture.rxMissed + capture.rxErrors,
      senderDropped:
        sender === null ? 0 : sender.txDropped + (spec.link === 'wire' ? sender.txErrors : 0),
      backlogDrops: after.backlogDrops - before.backlogDrops,
      twinDropped: after.twinDropped - before.twinDropped,
      methodDrops: reader && reader.drops(),
      counted: reader && reader.counted,
      sent,
    });
  };
  let loss = await read();
  if (spec.link === 'wire' && sent !== null) {
    const deadline = performance.now() + NIC_COUNTERS_LAG_MS;
    const short = (): boolean => sent - loss.received - (totalDrops(loss.drops) ?? 0) > 0;
    while (short() && performance.now() < deadline) {
      await sleep(NIC_COUNTERS_POLL_MS, undefined, { signal: spec.signal }).catch(() =>
        throwIfAborted(spec.signal),
      );
      loss = await read();
    }
  }
  return loss;
}

/** The speed probe on the window's CPUs now: the readers' mean, and the sender's when capbench sends. */
function probe(spec: BaselineSpec): { reader: number; sender: number | null } | null {
  const cpus = spec.probeCpus;
  if (cpus === null) return null;
  const readers = cpus.readers.length > 0 ? cpus.readers : [-1];
  const reader = readers.reduce((a, cpu) => a + spec.machine.speedProbe(cpu), 0) / readers.length;
  return { reader, sender: spec.traffic === null ? null : spec.machine.speedProbe(cpus.sender) };
}

/** Takes a window between two speed probes, and files them with its trial and load. */
async function probed(
  spec: BaselineSpec,
  measure: () => Promise<WindowResult>,
): Promise<WindowResult> {
  const before = probe(spec);
  const result = await measure();
  const after = probe(spec);
  if (before === null || after === null) return result;
  const speed: WindowSpeed = {
    reader: { before: before.reader, after: after.reader },
    sender:
      before.sender === null || after.sender === null
        ? null
        : { before: before.sender, after: after.sender },
  };
  return { ...result, trial: { ...result.trial, speed }, load: { ...result.load, speed } };
}

// ---- the `none` baseline ----------------------------------------------------------------------

/**
 * A window of the baseline: the same traffic with nothing attached. Its "received" is what the
 * capture interface took in; in drain the timed part is the idle machine for BASELINE_IDLE_MS,
 * live the whole window. It counts nothing and reads nothing: its load is the reference other
 * rows' deliver is charged against.
 */
export function measureBaseline(spec: BaselineSpec): Promise<WindowResult> {
  return probed(spec, () => baselineWindow(spec));
}

async function baselineWindow(spec: BaselineSpec): Promise<WindowResult> {
  const before = await readAll(spec);
  const { sent, c0, c1, windowMs } =
    spec.mode === 'drain' ? await idleAfterFill(spec, before) : await liveWithNothing(spec);
  const { received, drops, resent, dropsSource } = await lossSince(spec, before, sent.sent, null);
  const windowSec = windowMs / 1000;
  return {
    trial: {
      sent: sent.sent,
      received,
      drops,
      resent,
      latency: null,
      ipv4Counted: null,
      ipv4Expected: null,
      windowSec,
      // In drain nothing arrives while the baseline's idle machine is timed: no rate.
      pps: spec.mode === 'live' && windowSec > 0 ? received / windowSec : null,
      delivery: sent.delivery,
      perThread: null,
    },
    // In live mode the frames sent during the window scale the baseline; in drain none are.
    load: {
      speed: null,
      cpu: usageBetween(c0, c1),
      windowSec,
      packets: 0,
      sent: spec.mode === 'live' ? sent.sent : null,
      delivery: sent.delivery,
    },
    latencySamples: [],
    dropsSource,
  };
}

interface Timed {
  sent: Sent;
  c0: CpuSnapshot;
  c1: CpuSnapshot;
  windowMs: number;
}

/** Drain: the fill, then the idle machine for BASELINE_IDLE_MS, timed. */
async function idleAfterFill(spec: BaselineSpec, before: Counters): Promise<Timed> {
  const { delivery, threadSent } = await fill(spec, null, before);
  const c0 = spec.machine.cpuSnapshot('start');
  const t0 = performance.now();
  await sleep(BASELINE_IDLE_MS, undefined, { signal: spec.signal }).catch(() =>
    throwIfAborted(spec.signal),
  );
  const windowMs = performance.now() - t0;
  return {
    sent: { sent: delivery.sent, threadSent, delivery },
    c0,
    c1: spec.machine.cpuSnapshot('end'),
    windowMs,
  };
}

/** Live: the window's traffic with nothing reading it, timed whole. */
async function liveWithNothing(spec: BaselineSpec): Promise<Timed> {
  const m = spec.machine;
  const softirq0 = spec.traffic ? m.softirqCpuSec() : 0;
  const c0 = m.cpuSnapshot('start');
  const t0 = performance.now();
  const offered = await offer(spec, false, async (gen) => {
    if (gen) await gen.wait(spec.signal);
    else
      await sleep(spec.durationSec * 1000, undefined, { signal: spec.signal }).catch(() =>
        throwIfAborted(spec.signal),
      );
    return performance.now();
  });
  const c1 = m.cpuSnapshot('end');
  liveDelivery(spec, offered.delivery, softirq0, c0, c1);
  return { sent: offered, c0, c1, windowMs: offered.tEnd - t0 };
}

// ---- a capture method ------------------------------------------------------------------------

export function measureWindow(spec: WindowSpec): Promise<WindowResult> {
  return probed(spec, () => methodWindow(spec));
}

async function methodWindow(spec: WindowSpec): Promise<WindowResult> {
  // Reader threads count apart from this one, where no sampler can follow them.
  const sampled =
    spec.mode === 'live' &&
    spec.traffic !== null &&
    spec.tier === 'js' &&
    spec.options.threads <= 1;
  const latency = sampled ? new LatencySampler() : null;
  const session = spec.method.open({
    latency,
    ifname: spec.captureIf,
    tier: spec.tier,
    mode: spec.mode,
    holdFrames: spec.mode === 'drain' ? spec.count : 0,
    maxFrameBytes: largestFrame(spec.fixture),
    reader: null,
    ...spec.options,
  });
  let result: WindowResult;
  try {
    result =
      spec.mode === 'drain'
        ? await drain(spec, session)
        : await live(spec, session, latency !== null);
  } catch (err) {
    // The error that ended the window (an interrupt, say) is the one to report, not close()'s.
    try {
      session.close();
    } catch {
      // Already failing.
    }
    throw err;
  }
  session.close();
  return latency
    ? {
        ...result,
        latencySamples: latency.samples,
        trial: { ...result.trial, latency: summarizeLatency(latency.samples) },
      }
    : result;
}

async function drain(spec: WindowSpec, session: CaptureSession): Promise<WindowResult> {
  const before = await readAll(spec);
  const { delivery, threadSent } = await fill(spec, session, before);
  const kernel = session.stats();
  const readable = kernel.seen === null ? delivery.sent : kernel.seen - (kernel.drops ?? 0);

  const c0 = spec.machine.cpuSnapshot('start');
  const t0 = performance.now();
  const tEnd = await session.consume({
    frames: readable,
    untilMs: Infinity,
    idleMs: DRAIN_IDLE_MS,
    signal: spec.signal,
  });
  const c1 = spec.machine.cpuSnapshot('end');
  const sent = { sent: delivery.sent, threadSent, delivery };
  return finish(spec, session, before, sent, tEnd - t0, c0, c1);
}

async function live(
  spec: WindowSpec,
  session: CaptureSession,
  stamp: boolean,
): Promise<WindowResult> {
  const before = await readAll(spec);
  const m = spec.machine;
  const softirq0 = spec.traffic ? m.softirqCpuSec() : 0;
  const c0 = m.cpuSnapshot('start');
  const t0 = performance.now();
  const offered = await offer(spec, stamp, (gen) =>
    session.consume({
      frames: Infinity,
      untilMs: gen ? Infinity : t0 + spec.durationSec * 1000,
      idleMs: Infinity,
      stop: gen ? () => !gen.running : undefined,
      signal: spec.signal,
    }),
  );
  const tEnd =
    offered.sent === null
      ? offered.tEnd
      : await readTail(session, offered.sent, offered.tEnd, spec.signal);
  const c1 = m.cpuSnapshot('end');
  liveDelivery(spec, offered.delivery, softirq0, c0, c1);
  return finish(spec, session, before, offered, tEnd - t0, c0, c1);
}

/**
 * Frames the kernel accepted before the generator stopped are part of the window. Some may still
 * sit in the sender CPU's input backlog when the generator stops, so the target is read again
 * after each pass until the kernel's own count of frames for the method stops moving.
 */
async function readTail(
  session: CaptureSession,
  sent: number,
  tEnd: number,
  signal: AbortSignal,
): Promise<number> {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let seen: number | null = -1;
  while (performance.now() < deadline) {
    const kernel = session.stats();
    if (kernel.seen === seen) break;
    seen = kernel.seen;
    const target = seen === null ? sent : seen - (kernel.drops ?? 0);
    tEnd = await session.consume({
      frames: target,
      untilMs: deadline,
      idleMs: TAIL_IDLE_MS,
      signal,
    });
    if (seen === null) break;
  }
  return tEnd;
}

async function finish(
  spec: WindowSpec,
  session: CaptureSession,
  before: Counters,
  sent: Sent,
  windowMs: number,
  c0: CpuSnapshot,
  c1: CpuSnapshot,
): Promise<WindowResult> {
  const { received, drops, resent, dropsSource } = await lossSince(spec, before, sent.sent, {
    counted: session.received,
    drops: () => session.stats().drops,
  });
  const windowSec = windowMs / 1000;
  const readers = session.threads?.() ?? null;
  const cpu = usageBetween(c0, c1);
  const reading = readers ? withReaders(cpu, readers) : cpu;
  // The session opened with the window, and only its timed part read: its counts are the window's.
  const kernel = session.stats();
  const switches = [switchesBetween(c0, c1), ...(readers ?? []).map((t) => t.switches)];
  const total = (f: (s: ThreadSwitches) => number): number =>
    switches.reduce((a, s) => a + f(s), 0);
  const counts: WindowCounts = {
    calls: kernel.calls,
    wakeups: kernel.wakeups,
    takes: session.takes ?? null,
    voluntarySwitches: total((s) => s.voluntary),
    involuntarySwitches: total((s) => s.involuntary),
    minorFaults: total((s) => s.minorFaults),
  };
  return {
    trial: {
      sent: sent.sent,
      received,
      drops,
      resent,
      latency: null,
      ipv4Counted: session.ipv4,
      ipv4Expected: sent.sent === null ? null : expectedIpv4(spec.fixture, sent.threadSent),
      windowSec,
      pps: windowSec > 0 ? received / windowSec : null,
      delivery: sent.delivery,
      perThread:
        readers &&
        readers.map((t): ThreadTrial => ({
          received: t.received,
          drops: t.drops,
          cpuSec: t.cpuSec,
        })),
      counts,
    },
    // In live mode the frames sent during the window scale the baseline; in drain none are.
    load: {
      cpu: reading,
      windowSec,
      packets: received,
      sent: spec.mode === 'live' ? sent.sent : null,
      delivery: sent.delivery,
      speed: null,
    },
    latencySamples: [],
    dropsSource,
  };
}
