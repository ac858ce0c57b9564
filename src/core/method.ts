/**
 * The one interface every capture method implements. A method is a factory that says whether it
 * can run here and opens sessions; a session owns the kernel objects of one measurement window.
 */
import type { MethodName, Mode, Tier } from './config.js';
import type { LatencySampler } from './latency.js';

export type Availability = { available: true } | { available: false; reason: string };

/** What the command line says about how methods should be set up, beyond mode and tier. */
export interface MethodOptions {
  /** Frames per call for batched methods. */
  batch: number;
  /** Offered rate in pps, 0 for flat out: ring methods size retire timeouts and slack with it. */
  ratePps: number;
  /** packet-mmap: ring size asked for with --ring-mb, in bytes; null = the method sizes it. */
  ringBytes: number | null;
  /** af-xdp: queues to bind, and whether to ask for zero-copy. */
  queues: number;
  zeroCopy: boolean;
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
}

export interface CaptureSession {
  /** Frames delivered to the counter so far, and how many of them it counted as IPv4. */
  readonly received: number;
  readonly ipv4: number;
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
  close(): void;
}

export interface CaptureMethod {
  readonly name: MethodName;
  /** One line for `capbench list` and --help. */
  readonly summary: string;
  readonly tiers: readonly Tier[];
  /** The baseline: nothing attached, the interface's own counters are the "received" figure. */
  readonly baseline?: boolean;
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
   * Largest holdFrames a session can keep unread for frames of this size, or null if unbounded
   * in practice. Drain mode refuses a --count above it before anything is created.
   */
  maxHoldFrames(frameBytes: number, options: MethodOptions): number | null;
  open(ctx: OpenContext): CaptureSession;
}
