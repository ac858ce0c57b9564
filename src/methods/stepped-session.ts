/**
 * What every synchronous capture session shares: the counts, the consume loop (core's `drive`),
 * and the native tier's step. A session supplies how one step reads and counts, and its stats.
 */
import { drive, driveSync, SLICE_MS, type Step, type SyncLimit } from '../core/consume-loop.js';
import type { CaptureSession, ConsumeLimit, SessionStats } from '../core/method.js';
import type { NativeCount } from '../native/binding.js';
import { countTable } from '../core/counter.js';
import type { LatencySampler } from '../core/latency.js';

export abstract class SteppedSession implements CaptureSession {
  received = 0;
  ipv4 = 0;
  /** Steps (js) or the C loop's takes (native) that brought frames: batches, blocks, peeks. */
  takes = 0;
  private native = false;
  readonly readsOnEventLoop = false;
  abstract readonly settleMs: number;
  protected abstract readonly step: Step;

  /** The native tier: one call runs the method's loop and the C counter for up to a slice. */
  protected nativeStep(
    consumeNative: (maxFrames: number, sliceMs: number, idleMs: number) => NativeCount,
  ): Step {
    this.native = true;
    return (max, waitMs) => {
      const r = consumeNative(max, SLICE_MS, waitMs);
      this.received += r.received;
      this.ipv4 += r.ipv4;
      this.takes += r.takes;
      return r.received;
    };
  }

  /**
   * A js step's n frames, as (offset, length) pairs in table over buf: received, counted, and the
   * newest offered to the latency sampler. Returns n.
   */
  protected countPairs(
    buf: Uint8Array,
    table: Uint32Array,
    n: number,
    latency: LatencySampler | null,
  ): number {
    this.received += n;
    this.ipv4 += countTable(buf, table, n);
    if (n > 0) latency?.offer(buf, table[2 * n - 2]!, table[2 * n - 1]!);
    return n;
  }

  /** The step the loop runs: the js tier's counts the steps that brought frames. */
  private counted(): Step {
    if (this.native) return this.step;
    const step = this.step;
    return (max, waitMs) => {
      const n = step(max, waitMs);
      if (n > 0) this.takes++;
      return n;
    };
  }

  consume(limit: ConsumeLimit): Promise<number> {
    return drive(limit, () => this.received, this.counted());
  }

  /** The same loop on a reader thread of a spread session (threaded-session.ts), without an event loop. */
  consumeSync(limit: SyncLimit): number {
    return driveSync(limit, () => this.received, this.counted());
  }

  abstract stats(): SessionStats;
  abstract close(): void;
}
