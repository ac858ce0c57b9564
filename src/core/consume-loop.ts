/**
 * The loop every synchronous capture session runs: native calls back to back for a slice of
 * time, then one trip through the event loop so signals and timers are seen. A slice (SLICE_MS)
 * is long enough that the trip costs nothing measurable and short enough that Ctrl-C is prompt.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { InterruptedError } from '../shared/errors.js';
import type { ConsumeLimit } from './method.js';

/** How long a JS loop or a native call runs before the event loop gets a turn. */
export const SLICE_MS = 20;
/** How long one step may wait in poll() for a frame before the loop looks at its limits. */
export const STEP_WAIT_MS = 5;
/** Steps between clock reads: a clock read per packet would be part of what we measure. */
const STEPS_PER_CHECK = 64;
/** What one step may be asked for when the limit is open-ended (live mode): any large integer. */
const MAX_STEP_FRAMES = 2 ** 30;

/**
 * One native call: receive up to maxFrames (waiting at most waitMs for the first), run the
 * counter, and return how many frames were received (0 = nothing arrived in waitMs).
 */
export type Step = (maxFrames: number, waitMs: number) => number;

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new InterruptedError(signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
  }
}

/** What steps() returns when the frames asked for have all been received, or it was told to stop. */
const DONE = -1;

/**
 * Up to STEPS_PER_CHECK steps, until one comes back empty: the frames they got, or DONE. `after`
 * is told after each step that got frames, and returns true to stop.
 */
function steps(frames: number, received: () => number, step: Step, after?: () => boolean): number {
  let got = 0;
  for (let i = 0; i < STEPS_PER_CHECK; i++) {
    const remaining = frames - received();
    if (remaining <= 0) return DONE;
    const n = step(Math.min(remaining, MAX_STEP_FRAMES), STEP_WAIT_MS);
    if (n === 0) break;
    got += n;
    if (after?.() === true) return DONE;
  }
  return got;
}

export async function drive(
  limit: ConsumeLimit,
  received: () => number,
  step: Step,
): Promise<number> {
  let lastFrameAt = performance.now();
  for (;;) {
    throwIfAborted(limit.signal);
    const sliceEnd = performance.now() + SLICE_MS;
    let now: number;
    do {
      const got = steps(limit.frames, received, step);
      if (got === DONE) return performance.now();
      now = performance.now();
      if (got > 0) lastFrameAt = now;
      else if (now - lastFrameAt >= limit.idleMs) return lastFrameAt;
      if (now >= limit.untilMs) return now;
    } while (now < sliceEnd);
    if (limit.stop?.()) return now;
    await yieldToEventLoop();
  }
}

/** What a reader thread of a spread session reads to (see driveSync). */
export interface SyncLimit {
  /** Return once this many frames have been received in total (Infinity: until stopped). */
  frames: number;
  /** Return after this long with nothing arriving. */
  idleMs: number;
  /** Looked at after every step: return when it says so. */
  stop: () => boolean;
  /** Told after every step that read frames, so the thread that waits can see progress. */
  onFrames: () => void;
}

/**
 * drive() for a reader thread of its own (a worker_threads Worker): the same steps, but no trips
 * through an event loop, since the thread that waits for it sees signals and time. Returns
 * performance.now() of the last frame read (the thread's own clock: see performance.timeOrigin).
 */
export function driveSync(limit: SyncLimit, received: () => number, step: Step): number {
  let lastFrameAt = performance.now();
  // Stop is looked at after every step: a native step can be a whole slice, and 64 of them a second.
  const after = (): boolean => {
    limit.onFrames();
    return limit.stop();
  };
  for (;;) {
    const got = steps(limit.frames, received, step, after);
    if (got === DONE) return performance.now();
    const now = performance.now();
    if (got > 0) lastFrameAt = now;
    else if (now - lastFrameAt >= limit.idleMs) return lastFrameAt;
    if (limit.stop()) return now;
  }
}
