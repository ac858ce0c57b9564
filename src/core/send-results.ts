/**
 * What `capbench send` produces: typed rows under a versioned schema, as results.ts is for `run`.
 * Every figure in a row comes from the windows of that run; a trial keeps the raw measures so a
 * figure can be recomputed from the JSON.
 */
import type { LinkKind } from './accounting.js';
import type { Tier } from './config.js';
import type { CycleSource, HostInfo } from './results.js';
import type { SendConfig, SendKind, SendMethodName } from './send-config.js';
import type { Summary } from './statistics.js';
import type { SendStats } from './send-method.js';
import type { SendBedSettings } from '../net/send-testbed.js';

export const SEND_RESULTS_SCHEMA = 'capbench.send/1';

/** One window of one row: what was sent, what the sink counted, and the clocks around it. */
export interface SendTrial {
  /** What the session's kernel calls reported (taken units, calls, waits, zero-copy completions). */
  stats: SendStats;
  /** Packets on the wire: frames, datagrams (udp-gso's segments), or TCP segments (tcpi_segs_out). */
  packets: number;
  /** Payload bytes: the frames' whole bytes for packet methods, UDP or TCP payload for the others. */
  payloadBytes: number;
  /** Ethernet frame bytes on the wire (headers included, no preamble or FCS). */
  wireBytes: number;
  /** Seconds from the first send to the end of finish(). */
  elapsedSec: number;
  /** The sending thread's CPU seconds and ksoftirqd's, over the same stretch. */
  senderSec: number;
  softirqSec: number;
  /** The sink thread's CPU seconds over the whole window. */
  sinkSec: number;
  /** What the sink counted: frames or datagrams (units), bytes, IPv4 frames, its drops; TCP: eof. */
  sink: { units: number; bytes: number; ipv4: number; drops: number; eof: boolean };
  /**
   * Two-port mode over a wire: what the ports' counters say of the frames, where the sink cannot
   * see them (send-window.ts, wireDrops). `genTx`: frames GEN transmitted (tx_packets); `senderIf`:
   * frames the kernel took from the sender's calls that GEN never transmitted (dropped in its
   * qdisc, which fq_codel does without telling the sender, or in its driver); `captureIf`: CAP's
   * rx_dropped + rx_missed_errors + rx_errors, as run's two-port accounting counts them. null on
   * the test bed and over a veth pair, where the receiving end refuses a frame to the sender's
   * call instead, which sends it again.
   */
  portDrops: { genTx: number; senderIf: number; captureIf: number } | null;
  /** Frames the fixture says must be IPv4 among those sent (frame methods), else null. */
  expectedIpv4: number | null;
  /**
   * The same units sent into the twin pair, where nothing receives (runner: twinWindow): the
   * sending side's clocks without the sink's delivery, and the frames the twin's far end counted
   * against those sent. null for TCP (a stream needs its peer) and in two-port mode.
   */
  twin: {
    elapsedSec: number;
    senderSec: number;
    softirqSec: number;
    frames: number;
    arrived: number;
  } | null;
}

/** Means over a row's trials and their margins of error. */
export interface SendSummary {
  /** Packets on the wire per second (frames, datagrams, TCP segments). */
  txPps: Summary;
  /** Calls' units per second: TCP writes, udp-gso calls; the same as txPps for the others. */
  unitsPerSec: Summary;
  payloadGbps: number;
  wireGbps: number;
  /**
   * CPU time × TSC per packet: `send`, the sending thread and ksoftirqd sending into the twin
   * (nothing receiving; TCP: into the sink, its delivery included); `sink`, what receiving added:
   * the captured window's sending side less `send`, plus the sink's reading thread (null for
   * TCP); `total`, the captured window's sending side plus the sink's thread. In two-port mode
   * (no twin) `send` is the sending side's clocks and `sink` the sink's thread alone, not split.
   */
  cyclesPerPacket: { send: Summary; sink: Summary | null; total: Summary };
  /** `send` per KiB of payload. */
  cyclesPerKiB: Summary;
  /** MSG_ZEROCOPY rows: completions reaped, how many the kernel had to copy, cycles per packet reaping. */
  zerocopy: {
    completions: number;
    copied: number;
    /** Sends whose completion had not come back when the window ended (see SenderSession's FINISH_MS). */
    outstanding: number;
    reapCyclesPerPacket: number;
  } | null;
}

export interface SendRow {
  method: SendMethodName;
  tier: Tier;
  kind: SendKind;
  /** L4 payload per datagram or write; null for frame methods (the fixture's frames). */
  payload: number | null;
  /** Units per trial asked for: frames, datagrams (udp-gso: calls), writes. */
  units: number;
  available: boolean;
  reason: string | null;
  ok: boolean;
  /** Why the row failed its checks, one line each; empty when ok. */
  failures: string[];
  trials: SendTrial[];
  summary: SendSummary | null;
}

export interface SendResults {
  schema: typeof SEND_RESULTS_SCHEMA;
  startedAt: string;
  host: HostInfo;
  cycles: CycleSource;
  config: SendConfig;
  /** The test bed's settings, or in two-port mode the two ports' as found (capbench changes neither). */
  testbed: SendBedSettings;
  /** Two-port mode (config.iface, config.genIface): what carries the frames from GEN to CAP; null on the test bed. */
  link: LinkKind | null;
  rows: SendRow[];
}

/** Everything a trial's accounting counts as dropped: at the sink, and at the ports over a wire. */
export function trialDrops(t: Pick<SendTrial, 'sink' | 'portDrops'>): number {
  return t.sink.drops + (t.portDrops ? t.portDrops.senderIf + t.portDrops.captureIf : 0);
}
