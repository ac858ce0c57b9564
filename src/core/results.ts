/**
 * The results schema, "capbench.results/3". Reporters take a Results and return text; JSON output
 * is this object as it is. Fields are only ever added within a schema version. /2 replaced /1's
 * reader-only cycles (`thread`, `system`) with deliver, read and total (see CyclesPerPacket); /3
 * moved the methods' own options (/2's config.batch, ringMb, queues, zeroCopy) into one bag,
 * config.methodOptions, keyed by option name. report/load-results.ts reads /1 and /2 files too.
 */
import type { MethodName, Mode, RunConfig, Tier } from './config.js';
import type { SpeedSpread } from './drift.js';

export const RESULTS_SCHEMA = 'capbench.results/3';

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

/**
 * How `deliver` was measured:
 * - sender-clocks-vs-twin: drain on the test bed. The sender-side CPU (the generator thread's CPU
 *   clock, in whose softirq veth delivers, plus ksoftirqd's CPU clocks) during the fill, against
 *   a twin generator thread on the same CPU sending the same frames into an uncaptured twin veth.
 * - sender-clocks-vs-none: live on the test bed. The same clocks over the window, against what
 *   the `none` baseline's windows spent per frame sent.
 * - system-busy-vs-none: --iface. Machine-wide busy time (/proc/stat) less the reading thread,
 *   against the `none` baseline's busy time per second: the traffic is not ours, so no sender
 *   clock can be read.
 * - system-busy-two-port: --iface with --gen-iface. Machine-wide busy time less the reading
 *   thread over the phase that delivered the frames (drain: the fill, until the kernel had them
 *   all; live: the window), against what the `none` baseline's windows spent the same way per
 *   frame sent. On a NIC the receive path runs in NAPI on the receiving port's interrupt CPU, not
 *   in the sender's thread, so the sender's clocks do not hold it; the baseline sends the same
 *   frames from the same generator, so the generator's own CPU and the transmit path cancel. Where
 *   the receive softirq interrupts the reading thread, a kernel without IRQ_TIME_ACCOUNTING
 *   charges it to that thread: it then shows in `read`, not `deliver`; `total` is the same.
 */
export type DeliverSource =
  | 'sender-clocks-vs-twin'
  | 'sender-clocks-vs-none'
  | 'system-busy-vs-none'
  | 'system-busy-two-port';

export interface CyclesPerPacket {
  /**
   * The kernel's work per packet to put frames where the method reads them (skb handling, the
   * tap's copy, XDP's redirect, fastnet's rx_handler), over what the same frames cost with
   * nothing attached. On veth it runs on the sender's CPU, never in the reader's time. 0 for the
   * `none` row by definition; null when it could not be measured (deliverNote says why).
   */
  deliver: number | null;
  /** The capturing thread's CPU time (CLOCK_THREAD_CPUTIME_ID) × TSC Hz ÷ packets. */
  read: number | null;
  /** deliver + read: what a packet costs the machine. null when either is. */
  total: number | null;
  /** Relative margin of error (95%, Student's t) of total's mean over trials, percent. */
  totalRme: number | null;
  deliverSource: DeliverSource | null;
  /** Why deliver is null, or what to know about it; null when there is nothing to say. */
  deliverNote: string | null;
  /**
   * read split into user and system time in the proportions getrusage(RUSAGE_THREAD) reports;
   * null when the window was too short for it to see any (it is updated at scheduler ticks).
   */
  user: number | null;
  sys: number | null;
  /**
   * Cross-check: machine-wide busy time (wall × CPUs less /proc/stat's idle, iowait and steal)
   * over the windows, minus what the `none` baseline spent on the same traffic, ÷ packets. Ticks
   * of 10 ms: null when the windows together are too short for it.
   */
  systemBusy: number | null;
  source: CycleSource;
}

/**
 * The CPU spent delivering one window's frames, as read from the sender side's clocks and, in
 * two-port mode, the machine's. Kept in each trial so that `deliver` can be recomputed from the
 * JSON. null where capbench sent nothing (--iface alone).
 */
export interface DeliveryMeasure {
  /** Generator thread's CPU seconds while it sent `sent` frames. */
  senderSec: number;
  /** ksoftirqd threads' CPU seconds over the same phase (softirq work the kernel deferred). */
  softirqSec: number;
  sent: number;
  /** drain: the twin generator's CPU seconds and frames over the same fill; null when none ran. */
  twinSec: number | null;
  twinSent: number | null;
  /**
   * Two-port mode: the machine's clocks over the phase that delivered the frames (drain: the fill
   * until the kernel had them all; live: the window). null on the test bed. Absent from files
   * written before two-port mode existed.
   */
  system?: SystemDelivery | null;
}

export interface SystemDelivery {
  /** Machine-wide busy CPU seconds: wall time × CPUs less /proc/stat's idle, iowait and steal. */
  busySec: number;
  /** The capturing thread's CPU seconds (CLOCK_THREAD_CPUTIME_ID) over the same phase. */
  readerSec: number;
  /** Wall seconds of the phase: /proc/stat counts 10 ms ticks, so short phases say little. */
  wallSec: number;
}

export interface DropCounts {
  /**
   * Frames lost at the generator's port after the generator counted them sent. Always 0 on veth:
   * what the generator's veth end refuses (tx_dropped) comes back as ENOBUFS and is sent again,
   * and is reported as `resent` instead. Two-port mode on a NIC: its tx_dropped and tx_errors,
   * frames the driver took and then dropped or failed to send.
   */
  senderIf: number;
  /**
   * rx_dropped at the capture interface (on veth less the input-backlog drops already resent),
   * plus its rx_missed_errors and rx_errors (a NIC out of receive buffers, damaged frames).
   */
  captureIf: number;
  /**
   * Inside the method (PACKET_STATISTICS, pcap_stats), or sent − received when it cannot say;
   * null when neither is known (--iface has no sent count and `pcap` reports no drops).
   */
  method: number | null;
}

/**
 * Where a row's method drops came from: the kernel's own count, sent − received, or nowhere
 * (no count from the method and no sent count to derive one from).
 */
export type DropsSource = 'kernel' | 'derived' | 'unknown';

export interface SweepPoint {
  /** Reader threads at this point (sweep --threads); null = the run's. Absent from older files. */
  threads?: number | null;
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
  /** Frames the sender's veth refused under backpressure (its tx_dropped) and the generator resent; 0 on a NIC. */
  resent: number;
  /** Live mode, js tier: send-to-counter latency of sampled frames; null when not measured. */
  latency: LatencySummary | null;
  ipv4Counted: number | null;
  /** IPv4 frames among those sent, from the fixture; null when nothing said what was sent. */
  ipv4Expected: number | null;
  windowSec: number;
  pps: number | null;
  /** Sender-side clocks over the phase that delivered the frames; null without a test bed. */
  delivery: DeliveryMeasure | null;
  cyclesPerPacket: CyclesPerPacket;
  /** With more than one reader thread, what each did in this trial; null with one. Absent from older files. */
  perThread?: ThreadTrial[] | null;
  /** The speed probe around the window (core/drift.ts); null where it was not run. Absent from older files. */
  speed?: WindowSpeed | null;
  /** What the reading thread(s) asked of the kernel over the window. Absent from older files. */
  counts?: WindowCounts | null;
  /** This window's figures at the point's reference speed (Row.normalised); null without probes. Absent from older files. */
  atReferenceSpeed?: TrialAtReferenceSpeed | null;
}

/** The cluster check over a row's windows: the share of their variance the best two-group split explains, against its threshold. */
export interface WindowClusters {
  explained: number;
  threshold: number;
  /** explained > threshold: two clusters. */
  two: boolean;
}

/** One window's cycles/pkt and rate as if it had run at the point's reference speed. */
export interface TrialAtReferenceSpeed {
  deliver: number | null;
  read: number | null;
  total: number | null;
  pps: number | null;
}

/**
 * The speed probe around one window: ns of thread CPU time its fixed work took, before and after
 * the window, on the reading thread's CPU (the mean over the reader threads' CPUs) and on the
 * sender's, where veth delivers (null when capbench sends nothing).
 */
export interface WindowSpeed {
  reader: { before: number; after: number };
  sender: { before: number; after: number } | null;
}

/**
 * Exact counts over a window's timed part, for the reading thread(s): what the session asked of
 * the kernel (calls and the waits that woke to frames; null where the method cannot count them)
 * and getrusage's context switches and minor faults.
 */
export interface WindowCounts {
  calls: number | null;
  wakeups: number | null;
  /** Takes that brought frames (batches, blocks, peeks); null where not visible. */
  takes: number | null;
  voluntarySwitches: number;
  involuntarySwitches: number;
  minorFaults: number;
}

/** One reader thread's part of a trial. */
export interface ThreadTrial {
  received: number;
  /**
   * What the kernel dropped for this thread's socket(s), by their own count; null where the method
   * cannot say per socket. af-xdp: before the row takes out what the interface counted as well.
   */
  drops: number | null;
  /** The thread's CPU seconds while it read. */
  cpuSec: number;
}

/** One reader thread's part of a row, over all its trials. */
export interface ThreadShare {
  /** Its index, and the CPU it was pinned to (null: unpinned). */
  index: number;
  cpu: number | null;
  received: number;
  drops: number | null;
  /** Its CPU time × TSC Hz ÷ its own packets; null below MIN_PACKETS. */
  read: number | null;
}

export interface Row {
  method: MethodName;
  /** What the method says ran beyond its name (dpdk: the PMD); absent where it says nothing. */
  variant?: string;
  tier: Tier;
  mode: Mode;
  /** Reader threads (--threads). Absent from files written before it existed: 1. */
  threads?: number;
  available: boolean;
  /** Why the row could not run (unavailable) or why it failed its checks; null when fine. */
  reason: string | null;
  /** Totals over all trials. sent is null when the traffic came from outside (--iface). */
  sent: number | null;
  received: number;
  /** Total of drops over all sources; null when the method's part cannot be known. */
  dropped: number | null;
  drops: DropCounts;
  /** Total over trials of TrialResult.resent. */
  resent: number;
  dropsSource: DropsSource;
  ipv4Counted: number | null;
  ipv4Expected: number | null;
  /** Mean over trials of packets delivered to the counter per second, and its statistics. */
  pps: number | null;
  /** Relative margin of error of pps, percent (95%, Student's t); null when it rests on too few packets. */
  ppsRme: number | null;
  ppsP50: number | null;
  ppsP99: number | null;
  /** pps of each trial, in the order they ran. */
  ppsSamples: number[];
  /** ppsRme or cyclesPerPacket.totalRme is above the run's noise threshold (config.noisyRme). */
  noisy: boolean;
  /** Which point of a sweep this row measured; null outside sweeps. */
  point: SweepPoint | null;
  /** Live mode: send-to-counter delay of the frames, from the generator's timestamps; null when not measured. */
  latency: LatencySummary | null;
  cyclesPerPacket: CyclesPerPacket;
  trials: TrialResult[];
  /** With more than one reader thread, each one's share; null with one. Absent from older files. */
  perThread?: ThreadShare[] | null;
  /** Every check held: counts exact, accounting closed. */
  ok: boolean;
  /** Cycles at the point's reference speed, for comparing across runs (core/drift.ts); null without probes. Absent from older files. */
  normalised?: AtReferenceSpeed | null;
  /** Exact counts per packet that explain a cost (--explain). Absent from older files. */
  explain?: ExplainCounts | null;
  /**
   * Whether the per-window totals (else reads) fell into two clusters rather than one spread
   * (core/drift.ts twoClusters): the row's mean then lies between them. null with fewer than 5
   * windows. Absent from older files.
   */
  clusters?: WindowClusters | null;
  /**
   * For a noisy row (`noisy`): whether the machine's own drift explains it, i.e. its figures at
   * reference speed are within --noisy-rme. null for a row that is not noisy. Absent from older files.
   */
  driftExplainsNoise?: boolean | null;
}

/**
 * A row's figures as if every window had run at the point's reference speed (the median speed
 * probe; `reference` says which, in ns of probe work): each window's CPU time scaled by its own
 * probe (core/drift.ts atReference), deliver recomputed from the scaled clocks. Not what the
 * machine paid: what it would have at one speed, so that runs and rows taken at different moments
 * compare.
 */
export interface AtReferenceSpeed {
  deliver: number | null;
  read: number | null;
  total: number | null;
  /** Relative margins of error over the windows, percent. */
  readRme: number | null;
  totalRme: number | null;
  /**
   * rx pps with each window's rate scaled the same way (a window at half speed read at half the
   * rate), and its margin of error: what is left of the rate's noise once the machine's is out.
   */
  pps: number | null;
  ppsRme: number | null;
  reference: { readerNs: number; senderNs: number | null };
}

/**
 * Per packet, over a row's windows, for its reading thread(s): what it asked of the kernel (calls
 * and wake-ups; `callsAre` says what a call is for this method), getrusage's context switches and
 * minor faults; and packets per call and per wake-up (a batch, a block). Calls and packets per
 * call are set by the method and its batch in drain; switches and faults depend on timing.
 */
export interface ExplainCounts {
  callsAre: 'system calls' | 'libpcap calls' | null;
  callsPerPacket: number | null;
  packetsPerCall: number | null;
  packetsPerWakeup: number | null;
  /** Packets per take: per recvmmsg batch, ring block, af-xdp peek (1 for one recv per frame). */
  packetsPerBatch: number | null;
  voluntarySwitchesPerPacket: number;
  involuntarySwitchesPerPacket: number;
  minorFaultsPerPacket: number;
}

/** Why a run's rounds ended: the --trials asked for, every row precise enough, or --max-time. */
export interface Stopping {
  rule: 'trials' | 'precision' | 'time';
  /** Measured rounds (windows per row), the warm-up not counted. */
  rounds: number;
  /** --precision, percent; null with --trials. */
  precisionPct: number | null;
  /** --max-time, seconds; null with --trials. */
  maxTimeSec: number | null;
  /** Rows whose normalised total rme was still above the precision when time ran out. */
  impreciseRows: string[];
}

/** How much the machine's speed varied over the run, per CPU role (core/drift.ts SpeedSpread). */
export interface RunSpeed {
  reader: SpeedSpread | null;
  sender: SpeedSpread | null;
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  startedAt: string;
  host: HostInfo;
  config: RunConfig;
  rows: Row[];
  /** The speed probes over the whole run. Absent from older files. */
  speed?: RunSpeed | null;
  /** What ended the rounds (run: one point). Absent from older files and sweeps. */
  stopping?: Stopping | null;
  /** The counter alone (tinybench): the floor of what counting costs per frame. Absent from older files. */
  counterFloor?: CounterFloor | null;
}

/** doSomething over the fixture's frames held in memory, in each tier (tinybench). */
export interface CounterFloor {
  js: { nsPerFrame: number; rmePct: number };
  native: { nsPerFrame: number; rmePct: number };
  /** Frames per measured call (the fixture's frames, repeated to a batch). */
  batch: number;
}

/** A row's method as tables print it: `dpdk:af_xdp` where the method names a variant. */
export function methodLabel(row: Pick<Row, 'method' | 'variant'>): string {
  return row.variant === undefined ? row.method : `${row.method}:${row.variant}`;
}
