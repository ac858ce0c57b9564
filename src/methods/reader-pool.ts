/**
 * Reader threads, and the pool that keeps them between windows. A window's spread session takes
 * a reader per slot from the pool (one per method, tier, slot and CPU, so it runs the code the
 * same row's earlier windows compiled), opens its session in it, and gives it back on close; the
 * run ends them all when it is over (CaptureMethod.release). A reader that failed is never given
 * back: it is ended, or terminated when it does not answer.
 */
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import type { CaptureMethodName } from '../core/config.js';
import type { OpenContext, ThreadCounts } from '../core/method.js';
import { SystemError } from '../shared/errors.js';
import {
  CMD,
  CTRL,
  NUM,
  newShared,
  sharedLayout,
  type OpenRequest,
  type ReaderData,
  type ReaderMessage,
} from './reader-protocol.js';

/** How long a reader may take to start (a Worker boots Node first) or to open its socket. */
const START_TIMEOUT_MS = 10_000;
/** How long a synchronous command (stats, close, a stop) may take before the reader is given up on. */
const ANSWER_TIMEOUT_MS = 3000;

/** The script reader Workers run, and what it is handed (ReaderData.scriptData). */
const READER_SCRIPT = {
  url: new URL('./reader-thread.js', import.meta.url),
  data: null as unknown,
};
let script = READER_SCRIPT;

/**
 * A seam for tests only: reader Workers started from now on run `url` instead of reader-thread.js
 * (a script that calls serveReader with hooks, to make a reader fail), handed `data`; null puts
 * reader-thread.js back.
 */
export function installReaderScript(url: URL | null, data: unknown = null): void {
  script = url === null ? READER_SCRIPT : { url, data };
}

export class Reader {
  readonly ctrl: Int32Array;
  readonly num: Float64Array;
  private seq = 0;
  /** Set when the Worker has gone: an exit nobody asked for is a failure. */
  private exited: number | null = null;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** The slot it serves now, for error messages. */
  index = 0;

  constructor(
    readonly key: string,
    readonly cpu: number | null,
  ) {
    const shared = newShared();
    ({ ctrl: this.ctrl, num: this.num } = sharedLayout(shared));
    Atomics.store(this.ctrl, CTRL.ACK, -1);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: ReaderData = { cpu, shared, port: port2, scriptData: script.data };
    this.worker = new Worker(script.url, { workerData: data, transferList: [port2] });
    this.worker.unref();
    this.worker.on('exit', (code) => (this.exited = code));
    // An uncaught error inside the Worker also ends it with 'exit', which is what is looked at.
    this.worker.on('error', () => undefined);
  }

  get failed(): boolean {
    return Atomics.load(this.ctrl, CTRL.FAILED) === 1 || this.dead;
  }

  private get dead(): boolean {
    return this.exited !== null || Atomics.load(this.ctrl, CTRL.DEAD) === 1;
  }

  /** Whether the reader has finished the last command sent. */
  get done(): boolean {
    return Atomics.load(this.ctrl, CTRL.ACK) >= this.seq;
  }

  failure(doing: string): SystemError {
    let msg: ReaderMessage | undefined;
    while (
      (msg = receiveMessageOnPort(this.port)?.message as ReaderMessage | undefined) !== undefined
    ) {
      if (msg.kind === 'error')
        return new SystemError(`reader thread ${this.index}: ${msg.message}`);
    }
    if (this.dead)
      return new SystemError(
        `reader thread ${this.index} exited${this.exited === null ? '' : ` (code ${this.exited})`} while ${doing}`,
      );
    return new SystemError(`reader thread ${this.index} failed while ${doing}`);
  }

  /** Blocks this thread until the reader has finished command `seq` or died; false on timeout. */
  private waitAck(seq: number, timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const acked = Atomics.load(this.ctrl, CTRL.ACK);
      if (acked >= seq || this.dead) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctrl, CTRL.ACK, acked, left);
    }
  }

  /** Resolves when the reader has finished the last command sent, without blocking the event loop. */
  async settled(): Promise<void> {
    for (;;) {
      const acked = Atomics.load(this.ctrl, CTRL.ACK);
      if (acked >= this.seq || this.dead) return;
      const w = Atomics.waitAsync(this.ctrl, CTRL.ACK, acked);
      if (w.async) await w.value;
    }
  }

  send(cmd: number): void {
    Atomics.store(this.ctrl, CTRL.CMD, cmd);
    Atomics.store(this.ctrl, CTRL.SEQ, ++this.seq);
    Atomics.notify(this.ctrl, CTRL.SEQ);
  }

  /** Runs a command and waits for it; throws what the reader reported. */
  call(cmd: number, doing: string, timeoutMs = ANSWER_TIMEOUT_MS): void {
    this.send(cmd);
    if (!this.waitAck(this.seq, timeoutMs))
      throw new SystemError(
        `reader thread ${this.index} did not answer within ${timeoutMs} ms while ${doing}`,
      );
    if (this.failed) throw this.failure(doing);
  }

  /** Waits for the thread to start: it pins itself first. */
  started(): void {
    if (!this.waitAck(0, START_TIMEOUT_MS))
      throw new SystemError(
        `reader thread ${this.index} did not start within ${START_TIMEOUT_MS} ms`,
      );
    if (this.failed) throw this.failure('starting');
  }

  /** Opens the method's session for slot ctx.reader in the thread; what it said when ready. */
  open(request: OpenRequest): Extract<ReaderMessage, { kind: 'ready' }> {
    this.index = request.ctx.reader?.index ?? 0;
    this.port.postMessage(request);
    this.call(CMD.OPEN, 'opening', START_TIMEOUT_MS);
    const ready = receiveMessageOnPort(this.port)?.message as ReaderMessage | undefined;
    if (ready?.kind !== 'ready')
      throw new SystemError(`reader thread ${this.index} opened nothing`);
    return ready;
  }

  /** Asks a CONSUME in progress to end, without waiting. */
  requestStop(): void {
    Atomics.store(this.ctrl, CTRL.STOP, 1);
  }

  /** Ends a CONSUME in progress and waits for it: false when the reader does not answer or has died. */
  stop(): boolean {
    this.requestStop();
    return this.waitAck(this.seq, ANSWER_TIMEOUT_MS) && !this.dead;
  }

  /** Starts a CONSUME (see reader-thread.ts): `own` reads what its socket holds, else until stop(). */
  consume(own: boolean, idleMs: number): void {
    Atomics.store(this.ctrl, CTRL.STOP, 0);
    this.num[NUM.OWN_TARGET] = own ? 1 : 0;
    this.num[NUM.IDLE_MS] = idleMs;
    // Times of this CONSUME only: a reader that reads nothing leaves them unset.
    this.num[NUM.LAST_FRAME_HR_MS] = NaN;
    this.num[NUM.END_HR_MS] = NaN;
    this.send(CMD.CONSUME);
  }

  counts(): ThreadCounts {
    const n = this.num;
    return {
      received: n[NUM.RECEIVED]!,
      ipv4: n[NUM.IPV4]!,
      drops: Number.isNaN(n[NUM.DROPS]) ? null : n[NUM.DROPS]!,
      cpuSec: n[NUM.CPU]!,
      userSec: n[NUM.USER]!,
      sysSec: n[NUM.SYS]!,
      switches: {
        voluntary: n[NUM.VOLUNTARY]!,
        involuntary: n[NUM.INVOLUNTARY]!,
        minorFaults: n[NUM.MINOR_FAULTS]!,
      },
      cpu: this.cpu,
    };
  }

  /** Closes what it has open and ends the thread, by EXIT or, when it does not answer, terminate(). Never throws. */
  end(): void {
    if (this.stop()) {
      this.send(CMD.EXIT);
      this.waitAck(this.seq, ANSWER_TIMEOUT_MS);
    }
    void this.worker.terminate();
    this.port.close();
  }
}

const idle = new Map<string, Reader[]>();

/** A started reader for this method, tier, slot and CPU: one the pool kept, or a new one. */
export function takeReader(
  method: CaptureMethodName,
  ctx: OpenContext,
  index: number,
  cpu: number | null,
): Reader {
  const key = JSON.stringify([method, ctx.tier, index, cpu]);
  const kept = idle.get(key)?.pop();
  if (kept && !kept.failed) return kept;
  kept?.end();
  const reader = new Reader(key, cpu);
  reader.index = index;
  try {
    reader.started();
  } catch (err) {
    reader.end();
    throw err;
  }
  return reader;
}

/**
 * Closes the reader's session and keeps the thread for the next window; a reader that failed, or
 * fails to close, is ended. Returns the close's error, if any.
 */
export function giveBack(reader: Reader): SystemError | null {
  let error: SystemError | null = null;
  if (reader.failed || !reader.stop()) {
    error = reader.failed
      ? reader.failure('reading')
      : new SystemError(
          `reader thread ${reader.index} did not stop within ${ANSWER_TIMEOUT_MS} ms`,
        );
  } else {
    try {
      reader.call(CMD.CLOSE, 'closing');
    } catch (err) {
      error = err instanceof SystemError ? err : new SystemError(String(err));
    }
  }
  if (error !== null) {
    reader.end();
    return error;
  }
  idle.set(reader.key, [...(idle.get(reader.key) ?? []), reader]);
  return null;
}

/** Ends every kept reader of `method`: the run is over. */
export function endReaders(method: CaptureMethodName): void {
  for (const [key, readers] of idle) {
    if ((JSON.parse(key) as unknown[])[0] !== method) continue;
    idle.delete(key);
    for (const r of readers) r.end();
  }
}
