/**
 * One window of `capbench send`: a send method's session sends a row's units into the test bed's
 * captured pair, where a fresh sink counts them, then the same units the same way into the twin
 * pair, where nothing receives them. The sending side's clocks (the sending thread's CPU time
 * and ksoftirqd's) are read around each; on veth the receive side runs inside the sender's
 * calls, so the captured window's clocks less the twin's are what receiving cost (README, "The
 * send side"). In two-port mode the frames go from GEN to CAP, two ports of capbench's own
 * namespace, with no twin: the sender's clocks and the sink's are kept apart, not split.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { windowLoss, type LinkKind } from './accounting.js';
import type { Tier } from './config.js';
import { throwIfAborted } from './consume-loop.js';
import type { Machine } from './machine.js';
import type { SendConfig, SendMethodName } from './send-config.js';
import type { SendMethod, SendSession, SendStats, SendUnits } from './send-method.js';
import type { SendTrial } from './send-results.js';
import { expectedIpv4, type Fixture } from '../net/fixture.js';
import { countersDelta, type InterfaceCounters } from '../net/interface-stats.js';
import type { SendBedSettings, SendPorts } from '../net/send-testbed.js';
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
  | 'requireInterface'
  | 'describePort'
> & {
  /** Readies the test bed for sockets that build their own headers; two ports are only described. */
  prepareSendTestbed(bed: Testbed | SendPorts): Promise<SendBedSettings>;
  openSink(options: SinkOptions): SendSink;
};

/**
 * Where a row's windows send: the test bed (its captured pair, and the twin), or two-port mode's
 * ports of capbench's own namespace, GEN to CAP, and what links them (accounting.ts, LinkKind).
 */
export type SendRoute =
  { kind: 'testbed'; tb: Testbed } | { kind: 'two-port'; cap: string; gen: string; link: LinkKind };

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
/**
 * How long a wire's counters may lag the frames (run's window.ts waits as long): a NIC folds its
 * hardware counters in from a periodic task.
 */
const PORT_COUNTERS_LAG_MS = 3000;
const PORT_COUNTERS_POLL_MS = 100;

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

/** Where a session sends from and to: the captured pair, the twin, or GEN (two-port mode). */
interface Pair {
  /** The sender's namespace: the test bed's, or null for capbench's own (two-port mode). */
  netnsPath: string | null;
  ifname: string;
  srcAddr: string;
  dstAddr: string;
  dstPort: number;
}

function openOn(plan: WindowPlan, config: SendConfig, pair: Pair): SendSession {
  return plan.method.open({
    tier: plan.tier,
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
  const session = openOn(plan, config, {
    netnsPath: tb.netnsPath,
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

/** GEN's and CAP's counters, as one reading. */
interface PortCounters {
  gen: InterfaceCounters;
  cap: InterfaceCounters;
}

async function readPorts(
  ports: { cap: string; gen: string },
  machine: SendMachine,
): Promise<PortCounters> {
  const [gen, cap] = await Promise.all([
    machine.readCounters(ports.gen, null),
    machine.readCounters(ports.cap, null),
  ]);
  return { gen, cap };
}

/**
 * Frames lost between the sender's calls and the sink's ring over a wire, where neither of them
 * sees it. At GEN: a frame the kernel took from the sender's call (queued in GEN's qdisc) that
 * GEN never transmitted. A qdisc may drop what it queued without telling the sender (fq_codel,
 * the usual default, drops at dequeue after 5 ms in its queue, and the flow's oldest frames when
 * full), and a driver may drop or fail a frame (tx_dropped, tx_errors, never in tx_packets); so
 * GEN's loss is what it took less what it transmitted (tx_packets): `run` need not count this,
 * since its generator bypasses the qdisc. At CAP: exactly what run's two-port accounting counts
 * (accounting.ts windowLoss, link 'wire', whose answer is used as is): rx_missed_errors and
 * rx_errors (lost before the kernel saw them) and rx_dropped. The ports' counters close the
 * accounting independently of the sender: what GEN transmitted must equal what the sink counted
 * and dropped plus CAP's drops. Counters are read again until they do, or for
 * PORT_COUNTERS_LAG_MS (a NIC counts a transmitted frame at its completion and folds some
 * receive counters in from a periodic task). Over a veth pair nothing of this is needed: a frame
 * the receiving end refuses is refused to the sender's call (ENOBUFS), which sends it again, as
 * on the test bed, and veth has no qdisc by default.
 */
async function wireDrops(
  ports: { cap: string; gen: string },
  before: PortCounters,
  taken: number,
  got: SinkStatus,
  { machine, signal }: SendDeps,
): Promise<NonNullable<SendTrial['portDrops']>> {
  const read = async (): Promise<NonNullable<SendTrial['portDrops']>> => {
    const now = await readPorts(ports, machine);
    const cap = countersDelta(now.cap, before.cap);
    const genTx = now.gen.txPackets - before.gen.txPackets;
    const { drops } = windowLoss({
      link: 'wire',
      captureRx: cap.rxPackets,
      captureDropped: cap.rxDropped,
      captureNicLost: cap.rxMissed + cap.rxErrors,
      senderDropped: 0,
      backlogDrops: 0,
      twinDropped: 0,
      methodDrops: got.drops,
      counted: got.units,
      sent: genTx,
    });
    return { genTx, senderIf: Math.max(0, taken - genTx), captureIf: drops.captureIf };
  };
  const closes = (d: NonNullable<SendTrial['portDrops']>): boolean =>
    d.genTx === taken && d.genTx === got.units + got.drops + d.captureIf;
  let d = await read();
  const deadline = performance.now() + PORT_COUNTERS_LAG_MS;
  while (!closes(d) && performance.now() < deadline) {
    await sleep(PORT_COUNTERS_POLL_MS, undefined, { signal }).catch(() => throwIfAborted(signal));
    d = await read();
  }
  return d;
}

/** Where the captured window's session sends from and its sink reads. */
function capturedEnds(route: SendRoute): {
  sinkIf: string;
  sinkAddr: string;
  pair: Omit<Pair, 'dstPort'>;
} {
  if (route.kind === 'testbed') {
    const { tb } = route;
    return {
      sinkIf: tb.captureIf,
      sinkAddr: tb.captureAddr,
      pair: {
        netnsPath: tb.netnsPath,
        ifname: tb.senderIf,
        srcAddr: tb.senderAddr,
        dstAddr: tb.captureAddr,
      },
    };
  }
  // Frames only (the runner refuses L4 methods here): they carry their own addresses.
  return {
    sinkIf: route.cap,
    sinkAddr: '',
    pair: { netnsPath: null, ifname: route.gen, srcAddr: '', dstAddr: '' },
  };
}

export async function sendWindow(
  plan: WindowPlan,
  config: SendConfig,
  route: SendRoute,
  fixture: Fixture,
  deps: SendDeps,
): Promise<SendTrial> {
  const { machine, signal } = deps;
  const { method } = plan;
  const ends = capturedEnds(route);
  const wire = route.kind === 'two-port' && route.link === 'wire' ? route : null;
  const sink = machine.openSink({
    kind: method.kind,
    ifname: ends.sinkIf,
    addr: ends.sinkAddr,
    port: 0,
    bufferBytes: SINK_BUFFER_BYTES,
    cpu: config.sinkCpu,
  });
  let t: Timed;
  let got: SinkStatus;
  let before: PortCounters | null = null;
  try {
    if (wire) before = await readPorts(wire, machine);
    const session = openOn(plan, config, { ...ends.pair, dstPort: sink.port });
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
  const portDrops =
    wire && before ? await wireDrops(wire, before, t.stats.taken * plan.segments, got, deps) : null;
  // A stream needs its peer: TCP has no twin, its sender's clocks include the receiver's delivery.
  // Two-port mode has none either: its ports are the user's, and a twin would need two more.
  const twin =
    method.kind === 'tcp' || route.kind !== 'testbed'
      ? null
      : await twinWindow(plan, config, route.tb, deps);
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
    portDrops,
    expectedIpv4: kind === 'frames' ? expectedIpv4(fixture, stats.taken) : null,
    twin,
  };
}
