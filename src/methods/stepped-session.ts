/**
 * What every synchronous capture session shares: the counts, the consume loop (core's `drive`),
 * and the native tier's step. A session supplies how one step reads and counts, and its stats.
 */
import { drive, driveSync, SLICE_MS, type Step, type SyncLimit } from '../core/consume-loop.js';
import type { CaptureSession, ConsumeLimit, SessionStats } from '../core/method.js';
import type { NativeCount } from '../native/binding.js';

export abstract class SteppedSession implements CaptureSession {
  received = 0;
  ipv4 = 0;
  readonly readsOnEventLoop = false;
  abstract readonly settleMs: number;
  protected abstract readonly step: Step;

  /** The native tier: one call runs the method's loop and the C counter for up to a slice. */
  protected nativeStep(
    consumeNative: (maxFrames: number, sliceMs: number, idleMs: number) => NativeCount,
  ): Step {
    return (max, waitMs) => {
      const r = consumeNative(max, SLICE_MS, waitMs);
      this.received += r.received;
      this.ipv4 += r.ipv4;
      return r.received;
    };
  }

  consume(limit: ConsumeLimit): Promise<number> {
    return drive(limit, () => this.received, this.step);
  }

  /** The same loop on a reader thread of a spread session (threaded-session.ts), without an event loop. */
  consumeSync(limit: SyncLimit): number {
    return driveSync(limit, () => this.received, this.step);
  }

  abstract stats(): SessionStats;
  abstract close(): void;
}
