/**
 * Control of the native generator thread: start it, wait for it (with the event loop free, or,
 * for sessions that read on the event loop, with it deliberately blocked), stop it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fromNative, InterruptedError, SystemError } from '../shared/errors.js';
import { native, type Generator, type GeneratorEngine, type GeneratorStatus } from '../native/binding.js';
import type { Fixture } from './fixture.js';

export interface TrafficSpec {
  netnsPath: string | null;
  ifname: string;
  fixture: Fixture;
  /** 0 = until durationMs or stop. */
  count: number;
  durationMs: number;
  /** 0 = flat out. */
  ratePps: number;
  cpu: number;
  engine?: GeneratorEngine;
  batch?: number;
  /** Write each frame's send time into its last 8 bytes (see GeneratorOptions.stamp). */
  stamp?: boolean;
}

const POLL_MS = 2;
/**
 * PACKET_TX_RING beat sendmmsg() by about 1.2× on this machine's veth (bench/generator-vs-trafgen),
 * so it is what runs unless asked otherwise.
 */
const DEFAULT_ENGINE: GeneratorEngine = 'tx-ring';
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class RunningGenerator {
  private readonly gen: Generator;
  private final: GeneratorStatus | null = null;

  constructor(spec: TrafficSpec) {
    try {
      this.gen = new (native().Generator)({
        netnsPath: spec.netnsPath,
        ifname: spec.ifname,
        frames: spec.fixture.concatenated,
        frameLengths: spec.fixture.lengths,
        count: spec.count,
        durationMs: spec.durationMs,
        ratePps: spec.ratePps,
        batch: spec.batch ?? 64,
        cpu: spec.cpu,
        engine: spec.engine ?? DEFAULT_ENGINE,
        stamp: spec.stamp ?? false,
      });
      this.gen.start();
    } catch (err) {
      throw fromNative(err, `start generator on ${spec.ifname}`);
    }
  }

  get running(): boolean {
    return this.final === null && this.gen.status().running;
  }

  status(): GeneratorStatus {
    return this.final ?? this.gen.status();
  }

  /** Resolves when the generator has finished by itself; stops it and throws if `signal` fires. */
  async wait(signal: AbortSignal): Promise<GeneratorStatus> {
    while (this.running) {
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
  waitBlocking(): GeneratorStatus {
    while (this.running) Atomics.wait(sleeper, 0, 0, POLL_MS);
    return this.stop();
  }

  /** Stops and joins the thread; throws if it had stopped on an error. Idempotent. */
  stop(): GeneratorStatus {
    this.final ??= this.gen.stop();
    if (this.final.error) throw new SystemError(`generator: ${this.final.error}`);
    return this.final;
  }
}

export function sleepBlocking(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
