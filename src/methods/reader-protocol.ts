/**
 * What a spread session (threaded-session.ts) and one of its reader threads (reader-thread.ts)
 * share: a SharedArrayBuffer of command words one way and counts the other, read and written
 * without either thread waiting on the other's event loop, plus a MessagePort for what is not a
 * number (the ready message, an error's text).
 */
import type { MessagePort } from 'node:worker_threads';
import type { MethodName } from '../core/config.js';
import type { OpenContext } from '../core/method.js';

/** Int32 words at the start of the buffer. */
export const CTRL = {
  /** Bumped by the session for each command; the reader waits on it. */
  SEQ: 0,
  CMD: 1,
  /** The last SEQ the reader has finished; -1 until its session is open (or failed to open). */
  ACK: 2,
  /** Set by the session to end a CONSUME early (live: the generator has stopped; Ctrl-C). */
  STOP: 3,
  /** Set by the reader when a command failed; the error's text is on the port. */
  FAILED: 4,
} as const;
const CTRL_WORDS = 8;

/** Float64 slots after the control words. */
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
} as const;
const NUM_SLOTS = 16;

export const CMD = { CONSUME: 1, STATS: 2, CLOSE: 3 } as const;

export function sharedLayout(buffer: SharedArrayBuffer): { ctrl: Int32Array; num: Float64Array } {
  return { ctrl: new Int32Array(buffer, 0, CTRL_WORDS), num: new Float64Array(buffer, CTRL_WORDS * 4, NUM_SLOTS) };
}

export function newShared(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTRL_WORDS * 4 + NUM_SLOTS * 8);
}

/** What a reader thread is started with (workerData). */
export interface ReaderData {
  method: MethodName;
  /** The session's context with this reader's slot; never a latency sampler (it cannot cross threads). */
  ctx: OpenContext;
  /** The CPU to pin the thread to; null leaves it. */
  cpu: number | null;
  shared: SharedArrayBuffer;
  port: MessagePort;
}

export type ReaderMessage =
  | { kind: 'ready'; fanoutGroup: number; settleMs: number }
  | { kind: 'error'; message: string; errno: number | null };

/**
 * Test hook: CAPBENCH_READER_FAULT=<open|consume|crash>:<index> makes that reader thread fail as
 * named (crash: the thread exits mid-read without a word), so tests can prove a failing reader
 * fails its row and leaves nothing behind.
 */
export const FAULT_ENV = 'CAPBENCH_READER_FAULT';
