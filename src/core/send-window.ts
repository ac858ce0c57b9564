/**
 * One window of `capbench send`: a send method's session sends a row's units into the test bed's
 * captured pair, where a fresh sink counts them, then the same units the same way into the twin
 * pair, where nothing receives them. The sending side's clocks (the sending thread's CPU time
 * and ksoftirqd's) are read around each; on veth the receive side runs inside the sender's
 * calls, so the captured window's clocks less the twin's are what receiving cost (README, "The
 * send side").
 */
import type { Tier } from './config.js';
import type { Machine } from './machine.js';
import type { SendConfig, SendMethodName } from './send-config.js';
import type { SendMethod, SendSession, SendStats, SendUnits } from './send-method.js';
import type { SendTrial } from './send-results.js';
import { expectedIpv4, type Fixture } from '../net/fixture.js';
import type { SendBedSettings } from '../net/send-testbed.js';
import type { SinkOptions, SinkStatus } from '../net/sink.js';
import type { Testbed } from '../net/testbed.js';

/** The sink as the runner uses it (net/sink.ts), so tests can pass a fake. */
export interface SendSink {
  readonly port: number;
  settle(
    done: (s: SinkStatus) => boolean,
    idleMs: number,
    signal: AbortSignal,
  ): Promise<SinkStatus>;
  close(): void;
}

export type SendMachine = Pick<
  Machine,
  | 'requireCapabilities'
  | 'host'
  | 'sweepLeftovers'
  | 'createTestbed'
  | 'destroyTestbed'
  | 'fitFrames'
  | 'cpuSnapshot'
  | 'softirqCpuSec'
  | 'reserveCpu'
  | 'readCounters'
> & {
  prepareSendTestbed(tb: Testbed): Promise<SendBedSettings>;
  openSink(options: SinkOptions): SendSink;
};

export interface SendDeps {
  methods: ReadonlyMap<SendMethodName, SendMethod>;
  machine: SendMachine;
  signal: AbortSignal;
  onProgress?: (text: string) => void;
}

/** The sink's socket buffer or ring: it reads as the frames arrive, so this only absorbs bursts. */
const SINK_BUFFER_BYTES = 64 << 20;
/** How long the sink may go without a new frame before the window ends short of its count. */
const SINK_IDLE_MS = 1_000;
/** The twin's UDP datagrams never reach UDP (dropped as another host's): any port does. */
const TWIN_PORT = 9;
/** Ethernet + IPv4 + TCP headers with timestamps, per segment. */
const TCP_OVERHEAD = 14 + 20 + 32;
/** The largest UDP payload one unfragmented datagram carries on the test bed's 1,500-byte MTU. */
const UDP_PAYLOAD_PER_FRAGMENT = 1480;

/** What a window needs of its row. */
export interface WindowPlan {
  method: SendMethod;
  tier: Tier;
  payload: number | null;
  units: number;
  maxUnitBytes: number;
  data: SendUnits;
  /** Datagrams one unit becomes (udp-gso: its segments); 1 for the others. */
  segments: number;
}

/** Where a session sends from and to: the captured pair, or the twin. */
interface Pair {
  ifname: string;
  srcAddr: string;
  dstAddr: string;
  dstPort: number;
}

function openOn(plan: WindowPlan, config: SendConfig, tb: Testbed, pair: Pair): SendSession {
  return plan.method.open({
    tier: plan.tier,
    netnsPath: tb.netnsPath,
    ...pair,
    units: plan.data,
    config,
    maxUnitBytes: plan.maxUnitBytes,
  });
}

/** Bytes of `units` frames replayed from the fixture's start. */
function frameBytes(fixture: Fixture, units: number): number {
  const n = fixture.lengths.length;
  let cycle = 0;
  for (const len of fixture.lengths) cycle += len;
  let bytes = Math.floor(units / n) * cycle;
  for (let i = 0; i < units % n; i++) bytes += fixture.lengths[i]!;
  return bytes;
}

/**
 * Frame bytes on the wire for `datagrams` datagrams of up to `each` payload bytes: a UDP header
 * per datagram, and Ethernet and IPv4 headers per frame, a datagram above 1,472 bytes being cut
 * into IP fragments of 1,480.
 */
function udpWireBytes(payloadBytes: number, datagrams: number, each: number): number {
  return payloadBytes + datagrams * (8 + fragmentsOf(each) * (14 + 20));
}

/** The sending side's clocks around one send of `units` units and its finish(). */
interface Timed {
  stats: SendStats;
  elapsedSec: number;
  senderSec: number;
  softirqSec: number;
}

async function timedSend(
  session: SendSession,
  units: number,
  { machine, signal }: SendDeps,
): Promise<Timed> {
  const softStart = machine.softirqCpuSec();
  const start = machine.cpuSnapshot('start');
  await session.send({ units, signal });
  session.finish();
  const end = machine.cpuSnapshot('end');
  const softEnd = machine.softirqCpuSec();
  return {
    stats: session.stats(),
    elapsedSec: end.wallSec - start.wallSec,
    senderSec: (end.threadTotalNs - start.threadTotalNs) / 1e9,
    softirqSec: softEnd - softStart,
  };
}

/** Frames a UDP datagram of `payload` bytes is on the wire: its IP fragments of 1,480 bytes. */
function fragmentsOf(payload: number): number {
  return Math.max(1, Math.ceil((payload + 8) / UDP_PAYLOAD_PER_FRAGMENT));
}

/**
 * The same units sent the same way into the twin pair, where nothing receives: the frames reach
 * the twin's capture end addressed to another host (the fixture's MACs; for UDP a static
 * neighbour with a MAC nobody has) and the kernel drops them before IP. The sender's clocks there
 * are the sending alone; the captured window's, less these, are the sink's delivery. Counted
 * exactly at the twin end's receive counter.
 */
async function twinWindow(
  plan: WindowPlan,
  config: SendConfig,
  tb: Testbed,
  deps: SendDeps,
): Promise<SendTrial['twin']> {
  const { method } = plan;
  const before = await deps.machine.readCounters(tb.twinCaptureIf, null);
  const session = openOn(plan, config, tb, {
    ifname: tb.twinSenderIf,
    srcAddr: tb.twinSenderAddr,
    dstAddr: tb.twinCaptureAddr,
    dstPort: TWIN_PORT,
  });
  let t: Timed;
  try {
    t = await timedSend(session, plan.units, deps);
  } finally {
    session.close();
  }
  const after = await deps.machine.readCounters(tb.twinCaptureIf, null);
  // A udp-gso call crosses the veth as one GSO skb, counted once; a datagram above the MTU as
  // its IP fragments.
  const frames =
    method.kind === 'frames' || plan.segments > 1
      ? t.stats.taken
      : t.stats.taken * fragmentsOf(plan.payload!);
  return {
    elapsedSec: t.elapsedSec,
    senderSec: t.senderSec,
    softirqSec: t.softirqSec,
    frames,
    arrived: after.rxPackets - before.rxPackets,
  };
}

export async function sendWindow(
  plan: WindowPlan,
  config: SendConfig,
  tb: Testbed,
  fixture: Fixture,
  deps: SendDeps,
): Promise<SendTrial> {
  const { machine, signal } = deps;
  const { method } = plan;
  const sink = machine.openSink({
    kind: method.kind,
    ifname: tb.captureIf,
    addr: tb.captureAddr,
    port: 0,
    bufferBytes: SINK_BUFFER_BYTES,
    cpu: config.sinkCpu,
  });
  let t: Timed;
  let got: SinkStatus;
  try {
    const session = openOn(plan, config, tb, {
      ifname: tb.senderIf,
      srcAddr: tb.senderAddr,
      dstAddr: tb.captureAddr,
      dstPort: sink.port,
    });
    try {
      t = await timedSend(session, plan.units, deps);
      session.shutdown();
    } finally {
      session.close();
    }
    // What the sink must count: frames or datagrams, or the stream's bytes and its end.
    const expected = t.stats.taken * plan.segments;
    got = await sink.settle(
      (s) => (method.kind === 'tcp' ? s.eof : s.units + s.drops >= expected),
      SINK_IDLE_MS,
      signal,
    );
  } finally {
    sink.close();
  }
  // A stream needs its peer: TCP has no twin, its sender's clocks include the receiver's delivery.
  const twin = method.kind === 'tcp' ? null : await twinWindow(plan, config, tb, deps);
  const { stats } = t;
  const segs = plan.segments;
  const kind = method.kind;
  const frames = kind === 'frames' ? frameBytes(fixture, stats.taken) : null;
  const packets =
    kind === 'frames' ? stats.taken : kind === 'udp' ? stats.taken * segs : stats.segsOut;
  const wireBytes =
    kind === 'frames'
      ? frames!
      : kind === 'udp'
        ? udpWireBytes(stats.bytes, packets, Math.ceil(plan.payload! / segs))
        : stats.bytes + stats.segsOut * TCP_OVERHEAD;
  return {
    stats,
    packets,
    payloadBytes: frames ?? stats.bytes,
    wireBytes,
    elapsedSec: t.elapsedSec,
    senderSec: t.senderSec,
    softirqSec: t.softirqSec,
    sinkSec: got.cpuNs / 1e9,
    sink: { units: got.units, bytes: got.bytes, ipv4: got.ipv4, drops: got.drops, eof: got.eof },
    expectedIpv4: kind === 'frames' ? expectedIpv4(fixture, stats.taken) : null,
    twin,
  };
}
