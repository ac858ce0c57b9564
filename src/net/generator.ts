/**
 * Control of the native generator threads: start them, wait for them (with the event loop free,
 * or, for sessions that read on the event loop, with it deliberately blocked), stop them.
 *
 * Several threads are how traffic reaches several RX queues of a multi-queue veth. The native
 * generator sends with PACKET_QDISC_BYPASS, and then the kernel picks the TX queue in
 * net/packet/af_packet.c's packet_pick_tx_queue(): it records (sending CPU % real_num_tx_queues)
 * as the skb's queue, veth has no ndo_select_queue, so netdev_pick_tx() → skb_tx_hash() returns
 * that recorded queue as it is (veth sets no XPS map, and a packet socket caches no TX queue).
 * veth_xmit() then queues the frame on the peer's RX queue of the same index. A thread pinned to
 * CPU c therefore feeds RX queue c % queues whatever its frames hold; only through the qdisc would
 * the flow hash choose. Seen on 6.18 with two 2-queue veth ends and per-queue NAPI counters
 * (ethtool -S rx_queue_N_xdp_packets): trafgen pinned to CPU 0 filled queue 0 only, one process
 * each on CPUs 0 and 1 gave 500 + 500 of 1000, and through the qdisc (trafgen -q) one flow landed
 * on one queue from either CPU.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fromNative, InterruptedError, SystemError, UsageError } from '../shared/errors.js';
import {
  native,
  type Generator,
  type GeneratorEngine,
  type GeneratorOptions,
  type GeneratorStatus,
} from '../native/binding.js';
import type { Fixture } from './fixture.js';

export interface TrafficSpec {
  netnsPath: string | null;
  ifname: string;
  fixture: Fixture;
  /** 0 = until durationMs or stop; with several threads, the total they send between them. */
  count: number;
  durationMs: number;
  /** 0 = flat out. The total offered: several threads share it evenly. */
  ratePps: number;
  /** The generator thread's CPU (-1: any but the reserved one), or every thread's without `cpus`. */
  cpu: number;
  /** Sending threads, each with its own socket, each replaying the fixture from frame 0. Default 1. */
  threads?: number;
  /** Thread i runs on cpus[i % cpus.length] (absent or empty: on `cpu`): different CPUs feed different veth queues. */
  cpus?: readonly number[];
  engine?: GeneratorEngine;
  batch?: number;
  /** Write each frame's send time into its last 8 bytes (see GeneratorOptions.stamp). */
  stamp?: boolean;
}

/** The threads' statuses as one: sent and cpuNs summed, elapsedNs the longest, the first error. */
export interface TrafficStatus extends GeneratorStatus {
  /** What each thread sent, in thread order; expectedIpv4() takes it as it is. */
  threadSent: readonly number[];
}

/** Makes one native generator; tests pass fakes. */
export type GeneratorFactory = (options: GeneratorOptions) => Generator;

const POLL_MS = 2;
/**
 * PACKET_TX_RING beat sendmmsg() on veth, so it is what runs unless asked otherwise (measured:
 * bench/README.md, "Generator against trafgen").
 */
const DEFAULT_ENGINE: GeneratorEngine = 'tx-ring';
const sleeper = new Int32Array(new SharedArrayBuffer(4));

const nativeGenerator: GeneratorFactory = (options) => new (native().Generator)(options);

/**
 * Frames thread i of `threads` sends out of `count`: an even split, the remainder to the first
 * threads. A count of 0 stays 0 for everyone (each runs until duration or stop).
 */
export function splitCount(count: number, threads: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new RangeError(`splitCount: count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(threads) || threads < 1)
    throw new RangeError(`splitCount: threads must be a positive integer, got ${threads}`);
  const base = Math.floor(count / threads);
  return Array.from({ length: threads }, (_, i) => base + (i < count % threads ? 1 : 0));
}

/** A thread whose share of a fixed count is 0 never starts: the native count 0 means "no limit". */
const IDLE: GeneratorStatus = { running: false, sent: 0, elapsedNs: 0, cpuNs: 0, error: null };

export function combineStatus(statuses: readonly GeneratorStatus[]): TrafficStatus {
  if (statuses.length === 0) throw new RangeError('combineStatus: no threads');
  const failed = statuses.findIndex((s) => s.error !== null);
  // One thread keeps the message it always had; with several, say whose it was.
  const error =
    failed < 0
      ? null
      : statuses.length === 1
        ? statuses[0]!.error
        : `thread ${failed}: ${statuses[failed]!.error}`;
  return {
    running: statuses.some((s) => s.running),
    sent: statuses.reduce((a, s) => a + s.sent, 0),
    elapsedNs: Math.max(...statuses.map((s) => s.elapsedNs)),
    cpuNs: statuses.reduce((a, s) => a + s.cpuNs, 0),
    error,
    threadSent: statuses.map((s) => s.sent),
  };
}

function threadCount(spec: TrafficSpec): number {
  const n = spec.threads ?? 1;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`generator threads must be a positive integer, got ${n}`);
  return n;
}

/** A thread's CPU: from `cpus`, round robin; `spec.cpu` for every thread when cpus is absent or empty. */
function cpuOf(spec: TrafficSpec, thread: number): number {
  return spec.cpus === undefined || spec.cpus.length === 0
    ? spec.cpu
    : spec.cpus[thread % spec.cpus.length]!;
}

function optionsFor(
  spec: TrafficSpec,
  threads: number,
  count: number,
  cpu: number,
): GeneratorOptions {
  return {
    netnsPath: spec.netnsPath,
    ifname: spec.ifname,
    frames: spec.fixture.concatenated,
    frameLengths: spec.fixture.lengths,
    count,
    durationMs: spec.durationMs,
    ratePps: spec.ratePps / threads,
    batch: spec.batch ?? 64,
    cpu,
    engine: spec.engine ?? DEFAULT_ENGINE,
    stamp: spec.stamp ?? false,
  };
}

/** Stops and joins one thread; never throws, so that a failing thread cannot strand the others. */
function stopThread(gen: Generator | null): GeneratorStatus {
  if (gen === null) return IDLE;
  try {
    return gen.stop();
  } catch (err) {
    return { ...IDLE, error: fromNative(err, 'stop generator').message };
  }
}

function startThread(create: GeneratorFactory, options: GeneratorOptions): Generator {
  const gen = create(options);
  try {
    gen.start();
  } catch (err) {
    stopThread(gen);
    throw err;
  }
  return gen;
}

export class RunningGenerator {
  /** One per thread, in thread order; null for a thread with nothing to send. */
  private readonly gens: readonly (Generator | null)[];
  private final: TrafficStatus | null = null;

  constructor(spec: TrafficSpec, create: GeneratorFactory = nativeGenerator) {
    const n = threadCount(spec);
    const shares = splitCount(spec.count, n);
    // The offered rate is shared by the threads that have something to send.
    const sending = shares.filter((c) => spec.count === 0 || c > 0).length;
    const gens: (Generator | null)[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const idle = spec.count > 0 && shares[i] === 0;
        gens.push(
          idle ? null : startThread(create, optionsFor(spec, sending, shares[i]!, cpuOf(spec, i))),
        );
      }
    } catch (err) {
      gens.forEach(stopThread);
      const which =
        n === 1 ? '' : `thread ${gens.length} of ${n} (CPU ${cpuOf(spec, gens.length)}) `;
      throw fromNative(err, `start generator ${which}on ${spec.ifname}`);
    }
    this.gens = gens;
  }

  get running(): boolean {
    return this.final === null && this.gens.some((g) => g !== null && g.status().running);
  }

  status(): TrafficStatus {
    return this.final ?? combineStatus(this.gens.map((g) => g?.status() ?? IDLE));
  }

  /**
   * Whether waiting is over: every thread done, or one has failed (the others would otherwise
   * run on to their end with the run already lost).
   */
  private settled(): boolean {
    if (this.final !== null) return true;
    const s = this.status();
    return !s.running || s.error !== null;
  }

  /** Resolves when the generator has finished by itself; stops it and throws if `signal` fires. */
  async wait(signal: AbortSignal): Promise<TrafficStatus> {
    while (!this.settled()) {
      if (signal.aborted) {
        this.stop();
        throw new InterruptedError(signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      }
      await sleep(POLL_MS);
    }
    return this.stop();
  }

  /**
   * Waits without ever returning to the event loop, so that a session reading from an event-loop
   * callback cannot read while its buffer is meant to fill. Signals are seen once this returns.
   */
  waitBlocking(): TrafficStatus {
    while (!this.settled()) Atomics.wait(sleeper, 0, 0, POLL_MS);
    return this.stop();
  }

  /**
   * Stops and joins every thread, also when one of them fails; then throws the first error if a
   * thread had stopped on one. Idempotent.
   */
  stop(): TrafficStatus {
    this.final ??= combineStatus(this.gens.map(stopThread));
    if (this.final.error) throw new SystemError(`generator: ${this.final.error}`);
    return this.final;
  }
}

export function sleepBlocking(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
