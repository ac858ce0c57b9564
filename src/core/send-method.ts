/**
 * The one interface every send method implements, beside CaptureMethod (method.ts): a factory that
 * says whether it can run here and opens sessions; a session owns one socket, in the sender's
 * namespace, for one measurement window.
 */
import type { Tier } from './config.js';
import type { Availability } from './method.js';
import type { SendConfig, SendKind, SendMethodName } from './send-config.js';

/** What the kernel is handed per call, as a table of (offset, length) pairs into `data`. */
export interface SendUnits {
  /** The bytes every unit points into: the fixture's frames back to back, or one payload. */
  data: Uint8Array;
  /** (offset, length) per unit: a frame, a datagram (udp-gso: one call's payload), a write. */
  table: Uint32Array;
  count: number;
}

export interface SendOpenContext {
  tier: Tier;
  /**
   * The sender's namespace (the test bed's), or null for capbench's own (two-port mode), and the
   * interface its frames leave by.
   */
  netnsPath: string | null;
  ifname: string;
  /** Where the sink listens (UDP, TCP); the packet methods' frames carry their own addresses. */
  srcAddr: string;
  dstAddr: string;
  dstPort: number;
  units: SendUnits;
  config: Pick<SendConfig, 'batch' | 'qdiscBypass' | 'gsoSize'>;
  /** Largest unit in bytes (a TX ring slot must hold it). */
  maxUnitBytes: number;
}

export interface SendLimit {
  /** Units to hand over in total. */
  units: number;
  signal: AbortSignal;
}

/** What a session has asked of the kernel and what the kernel took, since it opened. */
export interface SendStats {
  /** Units the kernel took (a TX ring's: slots it released as sent), and their payload bytes. */
  taken: number;
  bytes: number;
  /** System calls that sent (send, sendmmsg, a ring's kick); waits for room; sends refused for room. */
  calls: number;
  waits: number;
  retries: number;
  /** MSG_ZEROCOPY: sends the kernel accepted, completions reaped, those it had to copy, reaps and their time. */
  zcSends: number;
  zcCompletions: number;
  zcCopied: number;
  zcReaps: number;
  zcReapNs: number;
  /** TCP: segments the socket sent (TCP_INFO tcpi_segs_out); 0 elsewhere. */
  segsOut: number;
}

export interface SendSession {
  /** Hands `limit.units` units to the kernel, in slices that let signals through. */
  send(limit: SendLimit): Promise<void>;
  /**
   * The end of the timed part: waits for what the kernel still holds of ours (zero-copy
   * completions, TX ring slots), so that stats() is exact.
   */
  finish(): void;
  /** TCP: no more bytes (the sink sees the end of the stream). */
  shutdown(): void;
  stats(): SendStats;
  close(): void;
}

export interface SendMethod {
  readonly name: SendMethodName;
  /** One line for `capbench list` and --help. */
  readonly summary: string;
  readonly kind: SendKind;
  readonly tiers: readonly Tier[];
  /** Whether it can run here, and why not. */
  probe(): Availability;
  /** Datagrams one unit of `payload` bytes becomes (udp-gso: its segments). Absent: one. */
  datagramsPerUnit?(payload: number, config: Pick<SendConfig, 'gsoSize'>): number;
  open(ctx: SendOpenContext): SendSession;
}
