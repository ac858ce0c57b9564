/**
 * The one interface every capture method implements. A method is a factory that says whether it
 * can run here and opens sessions; a session owns the kernel objects of one measurement window.
 */
import type { CaptureMethodName, FanoutMode, Mode, Tier } from './config.js';
import type { LatencySampler } from './latency.js';
import type { MethodOption, MethodOptionValues } from './method-options.js';
import type { ThreadSwitches } from './cpu-time.js';

/** What a method's `calls` count: see CaptureMethod.callsAre. */
export type CallsKind = 'system calls' | 'libpcap calls';

export type Availability = { available: true } | { available: false; reason: string };

/** A probe's answer ({ available, reason }, as the addon's probes give it) as an Availability. */
export function availability(p: { available: boolean; reason: string }): Availability {
  return p.available ? { available: true } : { available: false, reason: p.reason };
}

/** What the command line says about how methods should be set up, beyond mode and tier. */
export interface MethodOptions {
  /** The methods' own options (--batch, --ring-mb, ...): read with optionValue() and a method's declaration. */
  values: MethodOptionValues;
  /** Offered rate in pps, 0 for flat out: ring methods size retire timeouts and slack with it. */
  ratePps: number;
  /** Reader threads, each with a socket of its own (see ReaderSlot), and how fanout spreads frames over them. */
  threads: number;
  fanout: FanoutMode;
  /** CPUs for the reader threads when threads > 1 (thread i on captureCpus[i % length]); [] leaves them. */
  captureCpus: readonly number[];
  /** Receive queues of the test bed's veth pairs (see testbedQueues in config.ts); 0 without a test bed. */
  testbedQueues: number;
}

/** One reader of several: which it is, and the PACKET_FANOUT group its socket joins. */
export interface ReaderSlot {
  index: number;
  of: number;
  /** The group the first reader's socket started (its session's fanoutGroup); 0 for the first reader. */
  fanoutGroup: number;
}

/** What one reader thread of a spread session has done since the session opened. */
export interface ThreadCounts {
  received: number;
  ipv4: number;
  /** The kernel's count of frames it dropped for this reader's socket; null if it cannot say. */
  drops: number | null;
  /** The thread's CPU time while it read (CLOCK_THREAD_CPUTIME_ID), and getrusage's split of it. */
  cpuSec: number;
  userSec: number;
  sysSec: number;
  /** Its context switches and minor faults while it read (getrusage). */
  switches: ThreadSwitches;
  /** The CPU it was pinned to; null when it was left unpinned. */
  cpu: number | null;
}

export interface OpenContext extends MethodOptions {
  /**
   * Live mode with capbench's generator: frames carry their send time, and the js loop offers one
   * counted frame per step (a batch's last) to this sampler. null when there is nothing to sample.
   */
  latency: LatencySampler | null;
  ifname: string;
  tier: Tier;
  mode: Mode;
  /** Frames the kernel buffer must hold while nobody reads (drain); 0 in live mode. */
  holdFrames: number;
  /** Largest frame the fixture holds, in bytes. */
  maxFrameBytes: number;
  /** Set when this session is one of several reader threads' (threads > 1); null for a single reader. */
  reader: ReaderSlot | null;
}

export interface ConsumeLimit {
  /** Return once this many frames have been received in total. */
  frames: number;
  /** performance.now() after which to return. */
  untilMs: number;
  /** Return after this long with nothing arriving. */
  idleMs: number;
  /** Looked at between slices: return when it says so (e.g. the generator has finished). */
  stop?: () => boolean;
  signal: AbortSignal;
}

export interface SessionStats {
  /** Frames the kernel has handed to this method so far, delivered plus dropped; null if unknown. */
  seen: number | null;
  /** Frames the kernel dropped inside this method; null if it cannot say. */
  drops: number | null;
  /**
   * What the session has asked of the kernel since open (both tiers): calls (see
   * CaptureMethod.callsAre) and the waits that woke to frames; null where nothing counts them.
   */
  calls: number | null;
  wakeups: number | null;
}

export interface CaptureSession {
  /** Frames delivered to the counter so far, and how many of them it counted as IPv4. */
  readonly received: number;
  readonly ipv4: number;
  /**
   * Takes that brought frames so far: the batches, blocks or peeks the mechanism handed frames
   * over in. Absent where they are not visible (the cap package reads inside libpcap).
   */
  readonly takes?: number;
  /**
   * True when frames are read by an event-loop callback (the `cap` package): such a session reads
   * whenever JS is idle, so drain mode must keep the event loop busy while it fills.
   */
  readonly readsOnEventLoop: boolean;
  /** How long after the last frame was sent until all of it is readable (ring block retirement). */
  readonly settleMs: number;
  /** Reads until a limit is met; resolves with performance.now() of the last frame read. */
  consume(limit: ConsumeLimit): Promise<number>;
  stats(): SessionStats;
  /** A reader whose socket started a PACKET_FANOUT group: the group's id, for the other readers. */
  readonly fanoutGroup?: number;
  /**
   * A session spread over several reader threads: what each has done since open. Their CPU time
   * is part of `read`; the thread that called consume() only waited for them.
   */
  threads?(): ThreadCounts[];
  close(): void;
}

export interface CaptureMethod {
  readonly name: CaptureMethodName;
  /** One line for `capbench list` and --help. */
  readonly summary: string;
  readonly tiers: readonly Tier[];
  /**
   * What its sessions' `calls` count: system calls (receive calls, waits, kicks), or for a method
   * whose receiving happens inside a library, the calls into it. Absent: system calls.
   */
  readonly callsAre?: CallsKind;
  /**
   * What its rows are labelled with beyond its name, from its options (dpdk: the PMD that ran).
   * Absent: the name says it all.
   */
  variant?(values: MethodOptionValues): string;
  /** Options of its own, offered by the command line (an option several methods read is one declaration they share). */
  readonly options?: readonly MethodOption[];
  /**
   * Receive queues the test bed's veth pairs must have for it, beyond one per reader and generator
   * thread (af-xdp binds a socket to each of --queues). Absent: none beyond those.
   */
  queuesNeeded?(values: MethodOptionValues): number;
  /**
   * Whether it can run here, and why not: on the capture interface when one is given (a method
   * may need its driver's help, as fastnet-zc does), on this machine in general when null.
   */
  probe(ifname: string | null): Availability;
  /**
   * Refuses options this method cannot honour on this interface (null = capbench's veth test bed)
   * with a UsageError, before anything is created.
   */
  checkOptions?(options: MethodOptions, iface: string | null): void;
  /**
   * Whether it can spread over options.threads reader threads (on this interface; null = the test
   * bed), and why not. Absent: it cannot, and a row with --threads above 1 says so.
   */
  spread?(options: MethodOptions, iface: string | null): Availability;
  /**
   * Largest holdFrames a session can keep unread for frames of this size, or null if unbounded
   * in practice. Drain mode refuses a --count above it before anything is created.
   */
  maxHoldFrames(frameBytes: number, options: MethodOptions): number | null;
  open(ctx: OpenContext): CaptureSession;
  /** Frees what sessions kept between windows (reader threads); the run calls it when it is over. */
  release?(): void;
}
