/**
 * The send runner: a SendConfig in, SendResults out. It refuses what it can before anything is
 * created, builds the test bed and readies it for sockets that build their own headers
 * (net/send-testbed.ts), then runs every method and tier round by round, interleaved as `run`
 * does, each window against a fresh sink on the capture end, and removes the test bed whatever
 * happens.
 *
 * A window: the sink's thread starts reading on the capture end; the method's socket opens in the
 * sender's namespace; the sending thread's clock and ksoftirqd's run from the first send to the
 * end of finish() (zero-copy completions reaped, TX ring slots given back); then the sink is given
 * time to count the rest. On veth the receive side, the sink's socket or ring included, runs in
 * softirq inside the sender's calls: the sender's figures include the delivery into the sink,
 * and the sink's own column is only its reading thread (README, "The send side").
 */
import type { Tier } from './config.js';
import type { Machine } from './machine.js';
import { mean, summarize } from './statistics.js';
import {
  MAX_GSO_SEGMENTS,
  MAX_TCP_WRITE,
  MAX_UDP_PAYLOAD,
  SEND_DEFAULTS,
  type SendConfig,
  type SendMethodName,
} from './send-config.js';
import type { SendMethod, SendSession, SendStats, SendUnits } from './send-method.js';
import {
  SEND_RESULTS_SCHEMA,
  type SendResults,
  type SendRow,
  type SendSummary,
  type SendTrial,
} from './send-results.js';
import { throwIfAborted } from './consume-loop.js';
import { expectedIpv4, largestFrame, loadFixture, type Fixture } from '../net/fixture.js';
import type { SendBedSettings } from '../net/send-testbed.js';
import type { SinkOptions, SinkStatus } from '../net/sink.js';
import type { Testbed } from '../net/testbed.js';
import { UsageError } from '../shared/errors.js';

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

/** The L4 rows send from one buffer this large, unit after unit, as a program streaming a big buffer would. */
const L4_AREA_BYTES = 8 << 20;
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

/** The payloads a method's rows send: --payload's, or the method's default; null for frames. */
export function payloadsFor(method: SendMethod, config: SendConfig): (number | null)[] {
  if (method.kind === 'frames') return [null];
  if (config.payloads !== null) return config.payloads;
  if (method.kind === 'tcp') return [SEND_DEFAULTS.tcpPayload];
  return [
    method.datagramsPerUnit ? SEND_DEFAULTS.gsoSegments * config.gsoSize : SEND_DEFAULTS.udpPayload,
  ];
}

/** Refuses a payload the method cannot send in one call (exit 2, before anything is created). */
export function checkPayload(method: SendMethod, config: SendConfig): void {
  for (const payload of payloadsFor(method, config)) {
    if (payload === null) continue;
    const max = method.kind === 'tcp' ? MAX_TCP_WRITE : MAX_UDP_PAYLOAD;
    if (payload > max)
      throw new UsageError(
        `--payload ${payload} is more than ${method.name} can send in one call: at most ${max} bytes`,
      );
    const segments = method.datagramsPerUnit?.(payload, config) ?? 1;
    if (segments > MAX_GSO_SEGMENTS)
      throw new UsageError(
        `--payload ${payload} cut at --gso-size ${config.gsoSize} is ${segments} segments: UDP_SEGMENT takes at most ${MAX_GSO_SEGMENTS} per call`,
      );
  }
}

/** Units per trial: --count frames or datagrams, udp-gso's calls for as many datagrams, TCP writes. */
export function unitsFor(method: SendMethod, config: SendConfig, payload: number | null): number {
  if (payload === null) return config.count;
  if (method.kind === 'tcp') {
    if (config.countGiven) return config.count;
    return Math.ceil((config.count * SEND_DEFAULTS.udpPayload) / payload);
  }
  return Math.ceil(config.count / (method.datagramsPerUnit?.(payload, config) ?? 1));
}

function l4Units(payload: number): SendUnits {
  const area = Math.max(payload, L4_AREA_BYTES);
  const data = new Uint8Array(area);
  for (let i = 0; i < area; i++) data[i] = i & 0xff;
  const count = Math.floor(area / payload);
  const table = new Uint32Array(2 * count);
  for (let i = 0; i < count; i++) {
    table[2 * i] = i * payload;
    table[2 * i + 1] = payload;
  }
  return { data, table, count };
}

function frameUnits(fixture: Fixture): SendUnits {
  const n = fixture.lengths.length;
  const table = new Uint32Array(2 * n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    table[2 * i] = off;
    table[2 * i + 1] = fixture.lengths[i]!;
    off += fixture.lengths[i]!;
  }
  return { data: fixture.concatenated, table, count: n };
}

interface RowPlan {
  method: SendMethod;
  tier: Tier;
  payload: number | null;
  units: number;
  maxUnitBytes: number;
  data: SendUnits;
  trials: SendTrial[];
  failures: string[];
}

/** Bytes and packets of `units` frames replayed from the fixture's start. */
function frameTotals(fixture: Fixture, units: number): { bytes: number; packets: number } {
  const n = fixture.lengths.length;
  let cycle = 0;
  for (const len of fixture.lengths) cycle += len;
  let bytes = Math.floor(units / n) * cycle;
  for (let i = 0; i < units % n; i++) bytes += fixture.lengths[i]!;
  return { bytes, packets: units };
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
  plan: RowPlan,
  config: SendConfig,
  tb: Testbed,
  deps: SendDeps,
): Promise<SendTrial['twin']> {
  const { method } = plan;
  const before = await deps.machine.readCounters(tb.twinCaptureIf, null);
  const session = method.open({
    tier: plan.tier,
    netnsPath: tb.netnsPath,
    ifname: tb.twinSenderIf,
    srcAddr: tb.twinSenderAddr,
    dstAddr: tb.twinCaptureAddr,
    dstPort: TWIN_PORT,
    units: plan.data,
    config,
    maxUnitBytes: plan.maxUnitBytes,
  });
  let t: Timed;
  try {
    t = await timedSend(session, plan.units, deps);
  } finally {
    session.close();
  }
  const after = await deps.machine.readCounters(tb.twinCaptureIf, null);
  const segs = method.datagramsPerUnit?.(plan.payload ?? 0, config) ?? 1;
  // A udp-gso call crosses the veth as one GSO skb, counted once; a datagram above the MTU as
  // its IP fragments.
  const frames =
    method.kind === 'frames' || segs > 1
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

async function window(
  plan: RowPlan,
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
    const session = method.open({
      tier: plan.tier,
      netnsPath: tb.netnsPath,
      ifname: tb.senderIf,
      srcAddr: tb.senderAddr,
      dstAddr: tb.captureAddr,
      dstPort: sink.port,
      units: plan.data,
      config,
      maxUnitBytes: plan.maxUnitBytes,
    });
    try {
      t = await timedSend(session, plan.units, deps);
      session.shutdown();
    } finally {
      session.close();
    }
    const segs = method.datagramsPerUnit?.(plan.payload ?? 0, config) ?? 1;
    // What the sink must count: frames or datagrams, or the stream's bytes and its end.
    const expected = t.stats.taken * segs;
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
  const segs = method.datagramsPerUnit?.(plan.payload ?? 0, config) ?? 1;
  const kind = method.kind;
  const frames = kind === 'frames' ? frameTotals(fixture, stats.taken) : null;
  const packets =
    kind === 'frames' ? stats.taken : kind === 'udp' ? stats.taken * segs : stats.segsOut;
  const wireBytes =
    kind === 'frames'
      ? frames!.bytes
      : kind === 'udp'
        ? udpWireBytes(stats.bytes, packets, Math.ceil(plan.payload! / segs))
        : stats.bytes + stats.segsOut * TCP_OVERHEAD;
  return {
    stats,
    packets,
    payloadBytes: frames?.bytes ?? stats.bytes,
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

/** Why a trial breaks the accounting, or null: every unit asked for sent, and sent = received + drops. */
export function trialFailure(
  plan: Pick<RowPlan, 'method' | 'units' | 'payload'>,
  t: SendTrial,
  config: SendConfig,
): string | null {
  const { method } = plan;
  if (t.stats.taken !== plan.units) return `sent ${t.stats.taken} of ${plan.units} units`;
  if (method.kind === 'tcp') {
    if (t.sink.bytes !== t.stats.bytes)
      return `sent ${t.stats.bytes} bytes, the sink read ${t.sink.bytes}`;
    if (!t.sink.eof) return 'the sink never saw the end of the stream';
    return null;
  }
  if (t.twin && t.twin.arrived !== t.twin.frames)
    return `twin: sent ${t.twin.frames} frames, its far end received ${t.twin.arrived}`;
  const segs = method.datagramsPerUnit?.(plan.payload ?? 0, config) ?? 1;
  const sent = t.stats.taken * segs;
  const what = method.kind === 'frames' ? 'frames' : 'datagrams';
  if (sent !== t.sink.units + t.sink.drops)
    return `sent ${sent} ${what} ≠ received ${t.sink.units} + dropped ${t.sink.drops}`;
  // With drops, which frames were lost is unknown: the count must lie within them.
  const ipv4 = t.expectedIpv4;
  if (ipv4 !== null && (t.sink.ipv4 > ipv4 || t.sink.ipv4 + t.sink.drops < ipv4))
    return `IPv4 counted ${t.sink.ipv4} (dropped ${t.sink.drops}), the fixture says ${ipv4}`;
  return null;
}

export function summarizeRow(
  trials: readonly SendTrial[],
  tscHz: number,
  zerocopy: boolean,
): SendSummary {
  const per = (f: (t: SendTrial) => number) => summarize(trials.map(f))!;
  const total = (t: SendTrial) => (t.senderSec + t.softirqSec + t.sinkSec) * tscHz;
  // Without a twin (TCP) the sending alone cannot be told from the receiving in the sender's calls.
  const send = (t: SendTrial) =>
    (t.twin ? t.twin.senderSec + t.twin.softirqSec : t.senderSec + t.softirqSec) * tscHz;
  const twinned = trials.every((t) => t.twin !== null);
  return {
    txPps: per((t) => t.packets / t.elapsedSec),
    unitsPerSec: per((t) => t.stats.taken / t.elapsedSec),
    payloadGbps: mean(trials.map((t) => (t.payloadBytes * 8) / t.elapsedSec / 1e9)),
    wireGbps: mean(trials.map((t) => (t.wireBytes * 8) / t.elapsedSec / 1e9)),
    cyclesPerPacket: {
      send: per((t) => send(t) / t.packets),
      sink: twinned ? per((t) => (total(t) - send(t)) / t.packets) : null,
      total: per((t) => total(t) / t.packets),
    },
    cyclesPerKiB: per((t) => send(t) / (t.payloadBytes / 1024)),
    zerocopy: zerocopy
      ? {
          completions: mean(trials.map((t) => t.stats.zcCompletions)),
          copied: mean(trials.map((t) => t.stats.zcCopied)),
          outstanding: mean(trials.map((t) => t.stats.zcSends - t.stats.zcCompletions)),
          reapCyclesPerPacket: mean(
            trials.map((t) => ((t.stats.zcReapNs / 1e9) * tscHz) / t.packets),
          ),
        }
      : null,
  };
}

export async function runSend(config: SendConfig, deps: SendDeps): Promise<SendResults> {
  const { machine, methods, signal } = deps;
  const startedAt = new Date().toISOString();
  const fixture = await loadFixture(config.fixturePath);
  // Everything that can be refused is refused before anything is created.
  const chosen = config.methods.map((name) => {
    const method = methods.get(name);
    if (!method) throw new UsageError(`unknown send method ${name}`);
    const here = method.probe();
    if (!here.available && config.methodsGiven)
      throw new UsageError(`--methods ${name}: it cannot run here: ${here.reason}`);
    if (here.available) checkPayload(method, config);
    return { method, here };
  });
  machine.requireCapabilities(['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'], 'capbench send');
  const { info: host, cycles } = machine.host();
  await machine.sweepLeftovers();
  const tb = await machine.createTestbed(1);
  try {
    if (config.senderCpu >= 0) machine.reserveCpu(config.senderCpu);
    await machine.fitFrames(tb, largestFrame(fixture));
    const testbed = await machine.prepareSendTestbed(tb);
    const rows: (SendRow | RowPlan)[] = [];
    for (const { method, here } of chosen) {
      for (const payload of payloadsFor(method, config)) {
        for (const tier of config.tiers) {
          const base = {
            method: method.name,
            tier,
            kind: method.kind,
            payload,
            trials: [],
            summary: null,
          };
          if (!here.available || !method.tiers.includes(tier)) {
            const reason = here.available ? `${method.name} has no ${tier} tier` : here.reason;
            rows.push({
              ...base,
              units: config.count,
              available: false,
              reason,
              ok: false,
              failures: [],
            });
            continue;
          }
          const units = unitsFor(method, config, payload);
          const data = payload === null ? frameUnits(fixture) : l4Units(payload);
          const maxUnitBytes = payload ?? largestFrame(fixture);
          rows.push({ method, tier, payload, units, maxUnitBytes, data, trials: [], failures: [] });
        }
      }
    }
    const plans = rows.filter((r): r is RowPlan => 'data' in r);
    for (let round = 0; round < config.trials; round++) {
      for (const plan of plans) {
        if (plan.failures.length > 0) continue;
        throwIfAborted(signal);
        deps.onProgress?.(
          `send: ${plan.method.name}/${plan.tier} round ${round + 1} of ${config.trials}`,
        );
        try {
          const trial = await window(plan, config, tb, fixture, deps);
          plan.trials.push(trial);
          const failure = trialFailure(plan, trial, config);
          if (failure) plan.failures.push(`round ${round + 1}: ${failure}`);
        } catch (err) {
          if (signal.aborted) throw err;
          plan.failures.push(err instanceof Error ? err.message : String(err));
        }
      }
    }
    return {
      schema: SEND_RESULTS_SCHEMA,
      startedAt,
      host,
      cycles,
      config,
      testbed,
      rows: rows.map((r) => ('data' in r ? finishRow(r, host.tscHz) : r)),
    };
  } finally {
    await machine.destroyTestbed(tb);
  }
}

function finishRow(plan: RowPlan, tscHz: number): SendRow {
  const ok = plan.failures.length === 0 && plan.trials.length > 0;
  return {
    method: plan.method.name,
    tier: plan.tier,
    kind: plan.method.kind,
    payload: plan.payload,
    units: plan.units,
    available: true,
    reason: null,
    ok,
    failures: plan.failures,
    trials: plan.trials,
    summary:
      plan.trials.length > 0
        ? summarizeRow(
            plan.trials,
            tscHz,
            plan.trials.some((t) => t.stats.zcSends > 0),
          )
        : null,
  };
}
