/**
 * The send runner: a SendConfig in, SendResults out. It refuses what it can before anything is
 * created, builds the test bed and readies it for sockets that build their own headers
 * (net/send-testbed.ts), then runs every method and tier round by round, interleaved as `run`
 * does, each window against a fresh sink on the capture end, and removes the test bed whatever
 * happens. In two-port mode (--iface CAP --gen-iface GEN) there is no test bed: the frame methods
 * send from GEN in capbench's own namespace and the sink reads CAP, ports checked as `run` checks
 * them (two-port.ts). A window, and how the sink's delivery is told from the sending, is
 * send-window.ts's.
 */
import { mean, summarize } from './statistics.js';
import {
  MAX_GSO_SEGMENTS,
  MAX_TCP_WRITE,
  MAX_UDP_PAYLOAD,
  SEND_DEFAULTS,
  type SendConfig,
} from './send-config.js';
import type { SendMethod, SendUnits } from './send-method.js';
import {
  SEND_RESULTS_SCHEMA,
  trialDrops,
  type SendResults,
  type SendRow,
  type SendSummary,
  type SendTrial,
} from './send-results.js';
import { sendWindow, type SendDeps, type SendRoute, type WindowPlan } from './send-window.js';
import { throwIfAborted } from './consume-loop.js';
import { checkTwoPort } from './two-port.js';
import { largestFrame, loadFixture, type Fixture } from '../net/fixture.js';
import { UsageError } from '../shared/errors.js';

export type { SendDeps, SendMachine, SendRoute, SendSink } from './send-window.js';

/** The L4 rows send from one buffer this large, unit after unit, as a program streaming a big buffer would. */
const L4_AREA_BYTES = 8 << 20;

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

/** A payload's units: one after another through an 8 MiB buffer (bench:send uses the same). */
export function l4Units(payload: number): SendUnits {
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

interface RowPlan extends WindowPlan {
  trials: SendTrial[];
  failures: string[];
}

/** Why a trial breaks the accounting, or null: every unit asked for sent, and sent = received + drops. */
export function trialFailure(
  plan: Pick<RowPlan, 'method' | 'units' | 'segments'>,
  t: SendTrial,
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
  const sent = t.stats.taken * plan.segments;
  const what = method.kind === 'frames' ? 'frames' : 'datagrams';
  // Two-port mode over a wire: the ports' own counters must close too (send-window.ts, wireDrops).
  const ports = t.portDrops;
  if (ports && ports.genTx > sent)
    return `GEN transmitted ${ports.genTx} frames, more than the ${sent} sent: something else sends on it`;
  if (ports && ports.genTx !== t.sink.units + t.sink.drops + ports.captureIf)
    return `GEN transmitted ${ports.genTx} frames ≠ the sink's ${t.sink.units} + dropped ${t.sink.drops} + CAP's drops ${ports.captureIf}`;
  const drops = trialDrops(t);
  const where = ports
    ? ` (the sink ${t.sink.drops}, GEN ${ports.senderIf}, CAP ${ports.captureIf})`
    : '';
  if (sent !== t.sink.units + drops)
    return `sent ${sent} ${what} ≠ received ${t.sink.units} + dropped ${drops}${where}`;
  // With drops, which frames were lost is unknown: the count must lie within them.
  const ipv4 = t.expectedIpv4;
  if (ipv4 !== null && (t.sink.ipv4 > ipv4 || t.sink.ipv4 + drops < ipv4))
    return `IPv4 counted ${t.sink.ipv4} (dropped ${drops}), the fixture says ${ipv4}`;
  return null;
}

export function summarizeRow(
  trials: readonly SendTrial[],
  tscHz: number,
  zerocopy: boolean,
  twoPort = false,
): SendSummary {
  const per = (f: (t: SendTrial) => number) => summarize(trials.map(f))!;
  const total = (t: SendTrial) => (t.senderSec + t.softirqSec + t.sinkSec) * tscHz;
  // Without a twin (TCP, two-port mode) the sending alone cannot be told from the receiving in
  // the sender's calls.
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
      // Two-port mode: the sink's thread alone. TCP: its receiving is in send, so no figure.
      sink: twoPort
        ? per((t) => (t.sinkSec * tscHz) / t.packets)
        : twinned
          ? per((t) => (total(t) - send(t)) / t.packets)
          : null,
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

/** The methods to run, refused or left out as the config and the machine say (nothing created yet). */
function chooseMethods(
  config: SendConfig,
  methods: SendDeps['methods'],
): { method: SendMethod; here: ReturnType<SendMethod['probe']> }[] {
  const twoPort = config.iface !== null;
  const chosen: { method: SendMethod; here: ReturnType<SendMethod['probe']> }[] = [];
  for (const name of config.methods) {
    const method = methods.get(name);
    if (!method) throw new UsageError(`unknown send method ${name}`);
    // Two ports of one namespace: the kernel routes an L4 socket's traffic between them locally,
    // so it never crosses the wire; only frames, which name their own interface, do.
    if (twoPort && method.kind !== 'frames') {
      if (!config.methodsGiven) continue;
      const frames = [...methods.values()].filter((m) => m.kind === 'frames').map((m) => m.name);
      throw new UsageError(
        `--methods ${name}: two-port mode sends frames only (${frames.join(', ')}): between two ports of one namespace the kernel routes UDP and TCP locally, never on the wire`,
      );
    }
    const here = method.probe();
    if (!here.available && config.methodsGiven)
      throw new UsageError(`--methods ${name}: it cannot run here: ${here.reason}`);
    if (here.available) checkPayload(method, config);
    chosen.push({ method, here });
  }
  return chosen;
}

export async function runSend(config: SendConfig, deps: SendDeps): Promise<SendResults> {
  const { machine, signal } = deps;
  const startedAt = new Date().toISOString();
  const fixture = await loadFixture(config.fixturePath);
  // Everything that can be refused is refused before anything is created.
  const chosen = chooseMethods(config, deps.methods);
  const ports =
    config.iface !== null && config.genIface !== null
      ? { cap: config.iface, gen: config.genIface }
      : null;
  const link = ports ? await checkTwoPort(ports.cap, ports.gen, fixture, machine) : null;
  // Only the test bed needs a namespace (ip netns, setns); ports are used where they are.
  machine.requireCapabilities(
    ['CAP_NET_ADMIN', 'CAP_NET_RAW', ...(ports ? [] : (['CAP_SYS_ADMIN'] as const))],
    'capbench send',
  );
  const { info: host, cycles } = machine.host();
  await machine.sweepLeftovers();
  const tb = ports ? null : await machine.createTestbed(1);
  const route: SendRoute =
    ports && link ? { kind: 'two-port', ...ports, link } : { kind: 'testbed', tb: tb! };
  try {
    if (config.senderCpu >= 0) machine.reserveCpu(config.senderCpu);
    // Two-port mode's MTUs were checked against the fixture: the ports are not changed.
    if (tb) await machine.fitFrames(tb, largestFrame(fixture));
    const testbed = await machine.prepareSendTestbed(tb ?? ports!);
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
          const segments = payload === null ? 1 : (method.datagramsPerUnit?.(payload, config) ?? 1);
          rows.push({
            method,
            tier,
            payload,
            units,
            maxUnitBytes,
            data,
            segments,
            trials: [],
            failures: [],
          });
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
          const trial = await sendWindow(plan, config, route, fixture, deps);
          plan.trials.push(trial);
          const failure = trialFailure(plan, trial);
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
      link,
      rows: rows.map((r) => ('data' in r ? finishRow(r, host.tscHz, link !== null) : r)),
    };
  } finally {
    if (tb) await machine.destroyTestbed(tb);
  }
}

function finishRow(plan: RowPlan, tscHz: number, twoPort: boolean): SendRow {
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
            twoPort,
          )
        : null,
  };
}
