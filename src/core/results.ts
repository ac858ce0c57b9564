/**
 * The results schema, "capbench.results/1". Reporters take a Results and return text; JSON output
 * is this object as it is. Fields are only ever added within a schema version.
 */
import type { MethodName, Mode, RunConfig, Tier } from './config.js';

export const RESULTS_SCHEMA = 'capbench.results/1';

export interface HostInfo {
  kernel: string;
  cpuModel: string;
  cpus: number;
  /** TSC ticks per second, calibrated against CLOCK_MONOTONIC at the start of the run. */
  tscHz: number;
  node: string;
}

/** Where a cycles figure came from: hardware counters, or CPU time scaled by the TSC rate. */
export type CycleSource = 'perf' | 'tsc';

export interface CyclesPerPacket {
  /** Capturing thread's CPU time (CLOCK_THREAD_CPUTIME_ID) × TSC Hz ÷ packets. */
  thread: number | null;
  /**
   * thread split into user and system time in the proportions getrusage(RUSAGE_THREAD) reports;
   * null when the window was too short for it to see any (it is updated at scheduler ticks).
   */
  user: number | null;
  sys: number | null;
  /**
   * System-wide busy time (wall × CPUs less /proc/stat's idle, iowait and steal) over the window,
   * minus what the `none` baseline spent on the same traffic (per second in drain mode, per frame
   * sent in live mode), × TSC Hz ÷ packets. On veth the kernel's delivery work runs on the
   * sender's CPU, so this is the figure that charges it.
   */
  system: number | null;
  source: CycleSource;
}

export interface DropCounts {
  /**
   * Frames lost at the generator's end of the veth after the generator counted them sent. Always
   * 0 with capbench's generator: what its veth end refuses (tx_dropped) comes back as ENOBUFS and
   * is sent again, and is reported as `resent` instead.
   */
  senderIf: number;
  /** rx_dropped at the capture interface, less the input-backlog drops already resent. */
  captureIf: number;
  /** Inside the method (PACKET_STATISTICS, pcap_stats), or sent − received when it cannot say. */
  method: number;
}

export interface SweepPoint {
  /** Frame size on the wire (FCS included) of the udp<size> fixture this row replayed; null = the run's fixture. */
  frameBytes: number | null;
  /** Offered rate in pps; null = flat out. */
  offeredPps: number | null;
}

export type { LatencySummary } from './latency.js';
import type { LatencySummary } from './latency.js';

/** One trial (one measurement window). */
export interface TrialResult {
  sent: number | null;
  received: number;
  drops: DropCounts;
  /** Frames the sender's veth refused under backpressure (its tx_dropped) and the generator resent. */
  resent: number;
  /** Live mode, js tier: send-to-counter latency of sampled frames; null when not measured. */
  latency: LatencySummary | null;
  ipv4Counted: number | null;
  windowSec: number;
  pps: number | null;
  cyclesPerPacket: CyclesPerPacket;
}

export interface Row {
  method: MethodName;
  tier: Tier;
  mode: Mode;
  available: boolean;
  /** Why the row could not run (unavailable) or why it failed its checks; null when fine. */
  reason: string | null;
  /** Totals over all trials. sent is null when the traffic came from outside (--iface). */
  sent: number | null;
  received: number;
  /** Total of drops over all sources. */
  dropped: number;
  drops: DropCounts;
  /** Total over trials of TrialResult.resent. */
  resent: number;
  /** 'kernel' when the kernel reported the method's drops, 'derived' when sent − received. */
  dropsSource: 'kernel' | 'derived';
  ipv4Counted: number | null;
  ipv4Expected: number | null;
  /** Mean over trials of packets delivered to the counter per second, and its statistics. */
  pps: number | null;
  /** Relative margin of error of pps, percent (95%, Student's t). */
  ppsRme: number | null;
  ppsP50: number | null;
  ppsP99: number | null;
  /** pps of each trial, in the order they ran. */
  ppsSamples: number[];
  /** ppsRme is above the run's noise threshold (config.noisyRme): treat the mean with care. */
  noisy: boolean;
  /** Which point of a sweep this row measured; null outside sweeps. */
  point: SweepPoint | null;
  /** Live mode: send-to-counter delay of the frames, from the generator's timestamps; null when not measured. */
  latency: LatencySummary | null;
  cyclesPerPacket: CyclesPerPacket;
  trials: TrialResult[];
  /** Every check held: counts exact, accounting closed. */
  ok: boolean;
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  startedAt: string;
  host: HostInfo;
  config: RunConfig;
  rows: Row[];
}
