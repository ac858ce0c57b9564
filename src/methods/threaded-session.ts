/**
 * A session spread over --threads reader threads, each a worker_threads Worker with a socket (or
 * af-xdp queues) of its own (reader-thread.ts). The thread that calls consume() only starts the
 * readers and waits for them; its CPU time is still counted, with theirs, as the row's `read`.
 *
 * Why Workers for both tiers: the js tier must count in TypeScript on each thread, and the native
 * tier then runs the same C loop per thread that one reader runs, called once per 20 ms slice
 * from its Worker, so both tiers measure one mechanism and differ only in who counts.
 *
 * A reader that fails to open, fails mid-read or dies fails the whole session: every reader is
 * stopped and closed (its socket, ring, UMEM and XDP program released in its own thread) before
 * the error is thrown, and a reader that does not answer is terminated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { throwIfAborted } from '../core/consume-loop.js';
import type { MethodName } from '../core/config.js';
import type { CaptureSession, ConsumeLimit, OpenContext, SessionStats, ThreadCounts } from '../core/method.js';
import { SystemError } from '../shared/errors.js';
import { CMD, CTRL, NUM, newShared, sharedLayout, type ReaderData, type ReaderMessage } from './reader-protocol.js';

/** How long a reader may take to start and open its socket (a Worker boots Node first). */
const OPEN_TIMEOUT_MS = 10_000;
/** How long a synchronous command (stats, close, a stop) may take before the reader is given up on. */
const ANSWER_TIMEOUT_MS = 3000;
/** How often consume() looks at the readers' counts, the limit and the signal. */
const POLL_MS = 1;

class Reader {
  readonly ctrl: Int32Array;
  readonly num: Float64Array;
  private seq = 0;
  /** Set when the Worker has gone (an exit the reader did not ask for is a failure). */
  exited: number | null = null;

  constructor(
    readonly index: number,
    readonly cpu: number | null,
    private readonly worker: Worker,
    private readonly port: MessagePort,
    shared: SharedArrayBuffer,
  ) {
    ({ ctrl: this.ctrl, num: this.num } = sharedLayout(shared));
    worker.on('exit', (code) => (this.exited = code));
    // An uncaught error inside the Worker also ends it with 'exit'; the error itself is kept here.
    worker.on('error', () => undefined);
  }

  /** The reader's message, if it sent one; errors take their text from it. */
  message(): ReaderMessage | null {
    return (receiveMessageOnPort(this.port)?.message as ReaderMessage | undefined) ?? null;
  }

  failure(doing: string): SystemError {
    let msg: ReaderMessage | null;
    while ((msg = this.message()) !== null) {
      if (msg.kind === 'error') return new SystemError(`reader thread ${this.index}: ${msg.message}`);
    }
    if (this.exited !== null) return new SystemError(`reader thread ${this.index} exited (code ${this.exited}) while ${doing}`);
    return new SystemError(`reader thread ${this.index} failed while ${doing}`);
  }

  get failed(): boolean {
    return Atomics.load(this.ctrl, CTRL.FAILED) === 1 || this.exited !== null;
  }

  /** Waits, blocking this thread, until the reader has finished command `seq`; false on timeout. */
  waitAck(seq: number, timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const acked = Atomics.load(this.ctrl, CTRL.ACK);
      if (acked >= seq) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctrl, CTRL.ACK, acked, left);
    }
  }

  send(cmd: number): number {
    Atomics.store(this.ctrl, CTRL.CMD, cmd);
    this.seq++;
    Atomics.store(this.ctrl, CTRL.SEQ, this.seq);
    Atomics.notify(this.ctrl, CTRL.SEQ);
    return this.seq;
  }

  get done(): boolean {
    return Atomics.load(this.ctrl, CTRL.ACK) >= this.seq;
  }

  /** Runs a command and waits for it; throws what the reader reported. */
  call(cmd: number, doing: string): void {
    if (!this.waitAck(this.send(cmd), ANSWER_TIMEOUT_MS)) throw new SystemError(`reader thread ${this.index} did not answer within ${ANSWER_TIMEOUT_MS} ms while ${doing}`);
    if (this.failed) throw this.failure(doing);
  }

  /** Ends what it is doing, closes its session and lets the thread end; never throws. Returns the error it reported. */
  shutdown(): SystemError | null {
    let error: SystemError | null = null;
    Atomics.store(this.ctrl, CTRL.STOP, 1);
    if (this.exited === null && this.waitAck(this.seq, ANSWER_TIMEOUT_MS)) {
      if (!this.waitAck(this.send(CMD.CLOSE), ANSWER_TIMEOUT_MS)) error = new SystemError(`reader thread ${this.index} did not close within ${ANSWER_TIMEOUT_MS} ms`);
      else if (Atomics.load(this.ctrl, CTRL.FAILED) === 1) error = this.failure('closing');
    }
    // A reader that answered has closed its session and is ending; one that did not is ended here.
    void this.worker.terminate();
    this.port.close();
    return error;
  }

  counts(): ThreadCounts {
    const n = this.num;
    return {
      received: n[NUM.RECEIVED]!, ipv4: n[NUM.IPV4]!,
      drops: Number.isNaN(n[NUM.DROPS]) ? null : n[NUM.DROPS]!,
      cpuSec: n[NUM.CPU]!, userSec: n[NUM.USER]!, sysSec: n[NUM.SYS]!, cpu: this.cpu,
    };
  }
}

/** Starts reader `index` and waits for its session to open; the Worker's first words say how it went. */
function startReader(method: MethodName, ctx: OpenContext, index: number, fanoutGroup: number): { reader: Reader; ready: Extract<ReaderMessage, { kind: 'ready' }> } {
  const cpus = ctx.captureCpus;
  const cpu = cpus.length > 0 ? cpus[index % cpus.length]! : null;
  const shared = newShared();
  const { ctrl, num } = sharedLayout(shared);
  Atomics.store(ctrl, CTRL.ACK, -1);
  num[NUM.SEEN] = NaN;
  num[NUM.DROPS] = NaN;
  const { port1, port2 } = new MessageChannel();
  const data: ReaderData = {
    method, cpu, shared, port: port2,
    ctx: { ...ctx, latency: null, reader: { index, of: ctx.threads, fanoutGroup } },
  };
  const worker = new Worker(new URL('./reader-thread.js', import.meta.url), { workerData: data, transferList: [port2] });
  worker.unref();
  const reader = new Reader(index, cpu, worker, port1, shared);
  if (!reader.waitAck(0, OPEN_TIMEOUT_MS)) {
    reader.shutdown();
    throw new SystemError(`reader thread ${index} did not start within ${OPEN_TIMEOUT_MS} ms`);
  }
  const first = reader.failed ? null : reader.message();
  if (first?.kind !== 'ready') {
    const err = first?.kind === 'error' ? new SystemError(`reader thread ${index}: ${first.message}`) : reader.failure('opening');
    reader.shutdown();
    throw err;
  }
  return { reader, ready: first };
}

export class ThreadedSession implements CaptureSession {
  readonly readsOnEventLoop = false;
  readonly settleMs: number;
  private readonly readers: Reader[] = [];
  private closed = false;

  /**
   * `adjust` turns the readers' summed stats into the session's, for a method whose drops are
   * also seen at the interface (af-xdp), which only the whole session can take out once.
   */
  constructor(method: MethodName, ctx: OpenContext, private readonly adjust: (s: SessionStats) => SessionStats = (s) => s) {
    let settleMs = 0;
    try {
      let group = 0;
      for (let i = 0; i < ctx.threads; i++) {
        const { reader, ready } = startReader(method, ctx, i, group);
        this.readers.push(reader);
        if (i === 0) group = ready.fanoutGroup;
        settleMs = Math.max(settleMs, ready.settleMs);
      }
    } catch (err) {
      this.shutdownAll();
      throw err;
    }
    this.settleMs = settleMs;
  }

  get received(): number {
    return this.readers.reduce((a, r) => a + r.num[NUM.RECEIVED]!, 0);
  }

  get ipv4(): number {
    return this.readers.reduce((a, r) => a + r.num[NUM.IPV4]!, 0);
  }

  /**
   * With a frame target (drain, the live tail) each reader reads what its own socket holds, by
   * the kernel's count: which socket a frame went to is fanout's choice, so no reader can be told
   * its share. Open-ended (live), they read until the limit's stop or time says so.
   */
  async consume(limit: ConsumeLimit): Promise<number> {
    const own = Number.isFinite(limit.frames);
    for (const r of this.readers) {
      Atomics.store(r.ctrl, CTRL.STOP, 0);
      r.num[NUM.OWN_TARGET] = own ? 1 : 0;
      r.num[NUM.IDLE_MS] = Number.isFinite(limit.idleMs) ? limit.idleMs : 2 ** 31;
      r.num[NUM.LAST_FRAME_HR_MS] = NaN;
      r.send(CMD.CONSUME);
    }
    const started = performance.now();
    let stoppedAt: number | null = null;
    for (;;) {
      await sleep(POLL_MS);
      const failed = this.readers.find((r) => r.failed);
      if (failed) {
        this.stopAll();
        throw failed.failure('reading');
      }
      if (limit.signal.aborted) {
        this.stopAll();
        throwIfAborted(limit.signal);
      }
      if (this.readers.every((r) => r.done)) break;
      if (stoppedAt === null && (performance.now() >= limit.untilMs || limit.stop?.() === true || this.received >= limit.frames)) {
        stoppedAt = performance.now();
        this.stopAll();
      }
    }
    if (stoppedAt !== null) return stoppedAt;
    // Every reader ran out on its own: the window ends at the last frame any of them read.
    const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
    const lasts = this.readers.map((r) => r.num[NUM.LAST_FRAME_HR_MS]!).filter((t) => !Number.isNaN(t));
    return lasts.length > 0 ? Math.max(...lasts) - offset : started;
  }

  private stopAll(): void {
    for (const r of this.readers) Atomics.store(r.ctrl, CTRL.STOP, 1);
  }

  stats(): SessionStats {
    let seen: number | null = 0;
    let drops: number | null = 0;
    for (const r of this.readers) {
      r.call(CMD.STATS, 'reading its statistics');
      const s = r.num[NUM.SEEN]!;
      const d = r.num[NUM.DROPS]!;
      seen = seen === null || Number.isNaN(s) ? null : seen + s;
      drops = drops === null || Number.isNaN(d) ? null : drops + d;
    }
    return this.adjust({ seen, drops });
  }

  threads(): ThreadCounts[] {
    return this.readers.map((r) => r.counts());
  }

  private shutdownAll(): SystemError | null {
    let first: SystemError | null = null;
    for (const r of this.readers) first ??= r.shutdown();
    return first;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = this.shutdownAll();
    if (err) throw err;
  }
}

/** The open() of a method that can spread: one reader on this thread, or a ThreadedSession. */
export function openSpread(method: MethodName, ctx: OpenContext, single: (ctx: OpenContext) => CaptureSession, adjust?: (s: SessionStats) => SessionStats): CaptureSession {
  return ctx.threads > 1 && ctx.reader === null ? new ThreadedSession(method, ctx, adjust) : single(ctx);
}
