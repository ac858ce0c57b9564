/**
 * What a spread session (threaded-session.ts) and one reader thread (reader-thread.ts) share: a
 * SharedArrayBuffer of command words one way and counts the other, read and written without
 * either thread waiting on the other's event loop, and a MessagePort for what is not a number
 * (the session to open, the ready message, an error's text).
 *
 * A reader thread outlives the sessions it serves: it opens one per window (OPEN ... CLOSE) and
 * waits for the next until told to EXIT, so that the js tier's loop in it is compiled by the
 * row's warm-up window, as a single reader's is (a fresh Worker starts in V8's interpreter).
 */
import type { MessagePort } from 'node:worker_threads';
import type { CaptureMethodName } from '../core/config.js';
import type { OpenContext } from '../core/method.js';

/** Int32 words at the start of the buffer. */
export const CTRL = {
  /** Bumped by the session for each command; the reader waits on it. */
  SEQ: 0,
  CMD: 1,
  /** The last SEQ the reader has finished; -1 until the thread has started (or failed to). */
  ACK: 2,
  /** Set by the session to end a CONSUME early (live: the generator has stopped; Ctrl-C). */
  STOP: 3,
  /** Set by the reader when a command failed; the error's text is on the port. */
  FAILED: 4,
  /** Set by the reader thread as it exits, however it exits, with a wake-up for whoever waits on ACK. */
  DEAD: 5,
} as const;
const CTRL_WORDS = 8;

/** Float64 slots after the control words: what the open session has done, reset by OPEN. */
export const NUM = {
  RECEIVED: 0,
  IPV4: 1,
  /** The reader's SessionStats, NaN for null. */
  SEEN: 2,
  DROPS: 3,
  /** CPU seconds the thread spent inside CONSUME commands, and getrusage's split. */
  CPU: 4,
  USER: 5,
  SYS: 6,
  /** process.hrtime of the last frame read, in ms (CLOCK_MONOTONIC: the same clock on every thread). */
  LAST_FRAME_HR_MS: 7,
  /** CONSUME's parameters: 1 = read what this reader's socket holds, 0 = until STOP; the idle limit. */
  OWN_TARGET: 8,
  IDLE_MS: 9,
  /** process.hrtime, in ms, when the last CONSUME returned: where a stopped window ends. */
  END_HR_MS: 10,
  /** The session's KernelCalls (SessionStats), NaN for null. */
  CALLS: 11,
  WAKEUPS: 12,
  /** The thread's context switches and minor faults inside CONSUME commands (getrusage). */
  VOLUNTARY: 13,
  INVOLUNTARY: 14,
  MINOR_FAULTS: 15,
  /** The session's takes that brought frames (SteppedSession.takes). */
  TAKES: 16,
} as const;
const NUM_SLOTS = 20;

/** OPEN takes an OpenRequest from the port; EXIT closes what is open and ends the thread. */
export const CMD = { OPEN: 1, CONSUME: 2, STATS: 3, CLOSE: 4, EXIT: 5 } as const;

export function sharedLayout(buffer: SharedArrayBuffer): { ctrl: Int32Array; num: Float64Array } {
  return {
    ctrl: new Int32Array(buffer, 0, CTRL_WORDS),
    num: new Float64Array(buffer, CTRL_WORDS * 4, NUM_SLOTS),
  };
}

export function newShared(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTRL_WORDS * 4 + NUM_SLOTS * 8);
}

/** What a reader thread is started with (workerData): where it runs and how it is spoken to. */
export interface ReaderData {
  /** The CPU to pin the thread to; null leaves it. */
  cpu: number | null;
  shared: SharedArrayBuffer;
  port: MessagePort;
  /** For a script tests install in place of reader-thread.js (reader-pool.ts installReaderScript); null otherwise. */
  scriptData: unknown;
}

/** Posted before CMD.OPEN: the session to open, with the reader's slot in ctx.reader. */
export interface OpenRequest {
  method: CaptureMethodName;
  /** Never with a latency sampler: it cannot cross threads. */
  ctx: OpenContext;
}

export type ReaderMessage =
  | { kind: 'ready'; fanoutGroup: number; settleMs: number }
  | { kind: 'error'; message: string; errno: number | null };
