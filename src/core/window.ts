/**
 * One measurement window of one method and tier: the procedure behind every trial.
 *
 * drain: open the method, let the generator send `count` frames while nobody reads, wait until
 *   the kernel has all of them where the method can read, then time the consumer alone until it
 *   has read them all.
 * live: open the method, start the generator for `durationSec` at the offered rate, capture
 *   while it runs, then read the tail already on its way.
 *
 * CPU is sampled around the timed part only; loss is read from the interfaces and the method.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { rowCycles, type Baseline, type WindowLoad } from './accounting.js';
import { snapshot, usageBetween, type CpuUsage } from './cpu-time.js';
import { throwIfAborted } from './consume-loop.js';
import { LatencySampler, summarizeLatency } from './latency.js';
import type { Mode, Tier } from './config.js';
import type { CaptureMethod, CaptureSession, MethodOptions } from './method.js';
import type { CycleSource, DropCounts, TrialResult } from './results.js';
import { countersDelta, readBacklogDrops, readCounters, type InterfaceCounters } from '../net/interface-stats.js';
import { RunningGenerator, sleepBlocking, type TrafficSpec } from '../net/generator.js';
import { largestFrame, type Fixture } from '../net/fixture.js';

/** A drain that sees nothing new for this long has lost frames; stop waiting for them. */
const DRAIN_IDLE_MS = 500;
/** After the generator stops, the tail is read until nothing arrives for this long. */
const TAIL_IDLE_MS = 100;
/** How long the baseline looks at an idle machine in drain mode. */
const BASELINE_IDLE_MS = 300;
/** Limit on waiting for the kernel to account every sent frame to the method. */
const SETTLE_LIMIT_MS = 2000;

export interface WindowSpec {
  method: CaptureMethod;
  tier: Tier;
  mode: Mode;
  captureIf: string;
  /** Where to read the generator end's counters; null without a test bed. */
  sender: { ifname: string; netns: string } | null;
  /** The traffic to send; null when it comes from outside (--iface). */
  traffic: Omit<TrafficSpec, 'count' | 'durationMs'> | null;
  fixture: Fixture;
  count: number;
  durationSec: number;
  options: MethodOptions;
  tscHz: number;
  cpus: number;
  cycleSource: CycleSource;
  baseline: Baseline | null;
  signal: AbortSignal;
}

export interface WindowResult {
  trial: TrialResult;
  /** CPU used over the window: the row's cycles are computed from these summed over trials. */
  cpu: CpuUsage;
  /** System-wide busy CPU-seconds per second over the window: the baseline figure for `none`. */
  busyPerSec: number;
  /** The method could not report its own drops; they were derived from sent − received. */
  derivedDrops: boolean;
  /** Sampled send-to-counter latencies (ns), for the row to pool; empty when not measured. */
  latencySamples: readonly number[];
}

interface Counters {
  capture: InterfaceCounters;
  sender: InterfaceCounters | null;
  backlogDrops: number;
}

async function readAll(spec: WindowSpec): Promise<Counters> {
  const [capture, sender, backlogDrops] = await Promise.all([
    readCounters(spec.captureIf, null),
    spec.sender ? readCounters(spec.sender.ifname, spec.sender.netns) : Promise.resolve(null),
    readBacklogDrops(),
  ]);
  return { capture, sender, backlogDrops };
}

/** Waits until the kernel has accounted `sent` frames to the session (or stops changing). */
async function settle(session: CaptureSession, sent: number, signal: AbortSignal): Promise<void> {
  if (session.readsOnEventLoop) {
    sleepBlocking(session.settleMs);
    return;
  }
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let last = -1;
  for (;;) {
    throwIfAborted(signal);
    const seen = session.stats().seen;
    if (seen === null || seen >= sent || seen === last || performance.now() > deadline) break;
    last = seen;
    await sleep(10);
  }
  await sleep(session.settleMs);
}

function stopQuietly(gen: RunningGenerator | null): void {
  try {
    gen?.stop();
  } catch {
    // Already failing for another reason; that one is the error to report.
  }
}

export async function measureWindow(spec: WindowSpec): Promise<WindowResult> {
  const latency = spec.mode === 'live' && spec.traffic !== null && spec.tier === 'js' && !spec.method.baseline ? new LatencySampler() : null;
  const session = spec.method.open({
    latency,
    ifname: spec.captureIf,
    tier: spec.tier,
    mode: spec.mode,
    holdFrames: spec.mode === 'drain' ? spec.count : 0,
    maxFrameBytes: largestFrame(spec.fixture),
    ...spec.options,
  });
  let result: WindowResult;
  try {
    result = spec.mode === 'drain' ? await drain(spec, session) : await live(spec, session, latency !== null);
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
  return latency ? { ...result, latencySamples: latency.samples, trial: { ...result.trial, latency: summarizeLatency(latency.samples) } } : result;
}

async function drain(spec: WindowSpec, session: CaptureSession): Promise<WindowResult> {
  if (!spec.traffic) throw new Error('drain mode needs a test bed');
  const before = await readAll(spec);
  const gen = new RunningGenerator({ ...spec.traffic, count: spec.count, durationMs: 0 });
  let sent: number;
  try {
    sent = (session.readsOnEventLoop ? gen.waitBlocking() : await gen.wait(spec.signal)).sent;
  } catch (err) {
    stopQuietly(gen);
    throw err;
  }
  await settle(session, sent, spec.signal);
  const kernel = session.stats();
  const readable = kernel.seen === null ? sent : kernel.seen - (kernel.drops ?? 0);

  const c0 = snapshot();
  const t0 = performance.now();
  let tEnd: number;
  if (spec.method.baseline) {
    await sleep(BASELINE_IDLE_MS);
    tEnd = performance.now();
  } else {
    tEnd = await session.consume({ frames: readable, untilMs: Infinity, idleMs: DRAIN_IDLE_MS, signal: spec.signal });
  }
  const c1 = snapshot();
  return finish(spec, session, before, sent, tEnd - t0, usageBetween(c0, c1));
}

async function live(spec: WindowSpec, session: CaptureSession, stamp: boolean): Promise<WindowResult> {
  const before = await readAll(spec);
  const durationMs = spec.durationSec * 1000;
  const c0 = snapshot();
  const t0 = performance.now();
  const gen = spec.traffic ? new RunningGenerator({ ...spec.traffic, count: 0, durationMs, stamp }) : null;
  let tEnd: number;
  let sent: number | null = null;
  try {
    if (spec.method.baseline) {
      if (gen) await gen.wait(spec.signal);
      else await sleep(durationMs, undefined, { signal: spec.signal }).catch(() => throwIfAborted(spec.signal));
      tEnd = performance.now();
    } else {
      tEnd = await session.consume({
        frames: Infinity,
        untilMs: gen ? Infinity : t0 + durationMs,
        idleMs: Infinity,
        stop: gen ? () => !gen.running : undefined,
        signal: spec.signal,
      });
    }
    sent = gen ? gen.stop().sent : null;
  } catch (err) {
    stopQuietly(gen);
    throw err;
  }
  if (gen && sent !== null && !spec.method.baseline) tEnd = await readTail(session, sent, tEnd, spec.signal);
  const c1 = snapshot();
  return finish(spec, session, before, sent, tEnd - t0, usageBetween(c0, c1));
}

/**
 * Frames the kernel accepted before the generator stopped are part of the window. Some may still
 * sit in the sender CPU's input backlog when the generator stops, so the target is read again
 * after each pass until the kernel's own count of frames for the method stops moving.
 */
async function readTail(session: CaptureSession, sent: number, tEnd: number, signal: AbortSignal): Promise<number> {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let seen: number | null = -1;
  while (performance.now() < deadline) {
    const kernel = session.stats();
    if (kernel.seen === seen) break;
    seen = kernel.seen;
    const target = seen === null ? sent : seen - (kernel.drops ?? 0);
    tEnd = await session.consume({ frames: target, untilMs: deadline, idleMs: TAIL_IDLE_MS, signal });
    if (seen === null) break;
  }
  return tEnd;
}

/** In live mode the frames sent during the window scale the baseline; in drain none are. */
export function loadOf(spec: Pick<WindowSpec, 'mode'>, cpu: CpuUsage, windowSec: number, packets: number, sent: number | null): WindowLoad {
  return { cpu, windowSec, packets, sent: spec.mode === 'live' ? sent : null };
}

async function finish(
  spec: WindowSpec,
  session: CaptureSession,
  before: Counters,
  sent: number | null,
  windowMs: number,
  cpu: CpuUsage,
): Promise<WindowResult> {
  const after = await readAll(spec);
  const capture = countersDelta(after.capture, before.capture);
  const sender = after.sender && before.sender ? countersDelta(after.sender, before.sender) : null;
  const kernel = session.stats();
  const baseline = spec.method.baseline === true;
  // The baseline has no reader: what the veth delivered (rx_packets, which never counts a backlog
  // drop) less what the capture interface then lost is its "received".
  // Every frame the sender's veth refuses (tx_dropped: its peer's backlog or ring was full) comes
  // back to the generator as ENOBUFS and is sent again, so none of what `sent` counts is lost at the
  // sender end; the refusals are reported as `resent`. A backlog drop is also counted as rx_dropped
  // at the capture interface: only the rest of rx_dropped is loss there.
  const backlog = after.backlogDrops - before.backlogDrops;
  const resent = sender?.txDropped ?? 0;
  const drops: DropCounts = { senderIf: 0, captureIf: Math.max(0, capture.rxDropped - backlog), method: 0 };
  const received = baseline ? capture.rxPackets - drops.captureIf : session.received;
  const derivedDrops = !baseline && kernel.drops === null;
  if (kernel.drops !== null) drops.method = kernel.drops;
  else if (derivedDrops && sent !== null) drops.method = Math.max(0, sent - received - drops.senderIf - drops.captureIf);
  const windowSec = windowMs / 1000;
  const measured = spec.mode === 'live' || !baseline;
  return {
    trial: {
      sent,
      received,
      drops,
      resent,
      latency: null,
      ipv4Counted: baseline ? null : session.ipv4,
      windowSec,
      pps: measured && windowSec > 0 ? received / windowSec : null,
      cyclesPerPacket: rowCycles([loadOf(spec, cpu, windowSec, baseline ? 0 : received, sent)], spec.cpus, spec.tscHz, spec.baseline, spec.cycleSource),
    },
    cpu,
    latencySamples: [],
    busyPerSec: windowSec > 0 ? cpu.systemBusySec / windowSec : 0,
    derivedDrops,
  };
}
