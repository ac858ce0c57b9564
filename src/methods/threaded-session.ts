/**
 * A session spread over --threads reader threads, each a worker_threads Worker with a socket (or
 * af-xdp queues) of its own (reader-thread.ts), taken from the pool that keeps them between
 * windows (reader-pool.ts). The thread that calls consume() only starts the readers and waits for
 * them, asleep; its CPU time is still counted, with theirs, as the row's `read`.
 *
 * Why Workers for both tiers: the js tier must count in TypeScript on each thread, and the native
 * tier then runs the same C loop per thread that one reader runs, called once per 20 ms slice
 * from its Worker, so both tiers measure one mechanism and differ only in who counts.
 *
 * A reader that fails to open, fails mid-read or dies fails the whole session: every reader is
 * stopped and its session closed (socket, ring, UMEM and XDP program released in its own thread)
 * before the error is thrown; the failed reader is ended, or terminated if it does not answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfAborted } from '../core/consume-loop.js';
import type { CaptureMethodName } from '../core/config.js';
import type {
  CaptureSession,
  ConsumeLimit,
  OpenContext,
  SessionStats,
  ThreadCounts,
} from '../core/method.js';
import type { SystemError } from '../shared/errors.js';
import { CMD, NUM } from './reader-protocol.js';
import { endReaders, giveBack, takeReader, type Reader } from './reader-pool.js';

/**
 * How often consume() looks at the limit, the signal and the readers' health while it waits for
 * them to finish: the readers' own finishing wakes it at once.
 */
const CHECK_MS = 5;

export class ThreadedSession implements CaptureSession {
  readonly readsOnEventLoop = false;
  readonly settleMs: number;
  private readonly readers: Reader[] = [];
  private closed = false;

  /**
   * `adjust` turns the readers' summed stats into the session's, for a method whose drops are
   * also seen at the interface (af-xdp), which only the whole session can take out once.
   */
  constructor(
    method: CaptureMethodName,
    ctx: OpenContext,
    private readonly adjust: (s: SessionStats) => SessionStats = (s) => s,
  ) {
    let settleMs = 0;
    try {
      let group = 0;
      for (let i = 0; i < ctx.threads; i++) {
        const cpus = ctx.captureCpus;
        const reader = takeReader(method, ctx, i, cpus.length > 0 ? cpus[i % cpus.length]! : null);
        this.readers.push(reader);
        const ready = reader.open({
          method,
          ctx: { ...ctx, latency: null, reader: { index: i, of: ctx.threads, fanoutGroup: group } },
        });
        if (i === 0) group = ready.fanoutGroup;
        settleMs = Math.max(settleMs, ready.settleMs);
      }
    } catch (err) {
      this.giveAllBack();
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

  get takes(): number {
    return this.readers.reduce((a, r) => a + r.num[NUM.TAKES]!, 0);
  }

  /**
   * With a frame target (drain, the live tail) each reader reads what its own socket holds, by
   * the kernel's count: which socket a frame went to is fanout's choice, so no reader can be told
   * its share. Open-ended (live), they read until the limit's stop or time says so.
   */
  async consume(limit: ConsumeLimit): Promise<number> {
    const own = Number.isFinite(limit.frames);
    for (const r of this.readers)
      r.consume(own, Number.isFinite(limit.idleMs) ? limit.idleMs : 2 ** 31);
    const started = performance.now();
    const finished = Promise.all(this.readers.map((r) => r.settled()));
    let stopped = false;
    for (;;) {
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
      if (!stopped && (performance.now() >= limit.untilMs || limit.stop?.() === true)) {
        stopped = true;
        for (const r of this.readers) r.requestStop();
      }
      await Promise.race([finished, sleep(CHECK_MS)]);
    }
    // Told to stop, the window ends when the last reader did (it counted what it read until
    // then); run out on their own, at the last frame any of them read.
    const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
    const at = (slot: number): number[] =>
      this.readers.map((r) => r.num[slot]!).filter((t) => !Number.isNaN(t));
    const ends = at(stopped ? NUM.END_HR_MS : NUM.LAST_FRAME_HR_MS);
    return ends.length > 0 ? Math.max(...ends) - offset : started;
  }

  private stopAll(): void {
    for (const r of this.readers) r.stop();
  }

  stats(): SessionStats {
    const sum = { seen: 0, drops: 0, calls: 0, wakeups: 0 } as Record<
      keyof SessionStats,
      number | null
    >;
    const slots = {
      seen: NUM.SEEN,
      drops: NUM.DROPS,
      calls: NUM.CALLS,
      wakeups: NUM.WAKEUPS,
    } as const;
    for (const r of this.readers) {
      r.call(CMD.STATS, 'reading its statistics');
      for (const key of Object.keys(slots) as (keyof SessionStats)[]) {
        const v = r.num[slots[key]]!;
        sum[key] = sum[key] === null || Number.isNaN(v) ? null : sum[key] + v;
      }
    }
    return this.adjust(sum);
  }

  threads(): ThreadCounts[] {
    return this.readers.map((r) => r.counts());
  }

  /**
   * Closes every reader's session, the first reader's last (what its socket set up, such as
   * af-xdp's program, others may share), and keeps the threads that closed cleanly.
   */
  private giveAllBack(): SystemError | null {
    let first: SystemError | null = null;
    for (const r of [...this.readers].reverse()) {
      const err = giveBack(r);
      first ??= err;
    }
    return first;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = this.giveAllBack();
    if (err) throw err;
  }
}

/**
 * The name, open() and release() of a method that can spread: open() gives one reader on this
 * thread, or with --threads a ThreadedSession of reader threads; release() ends those threads
 * with the run. `adjust`, given the session's context at open: see ThreadedSession.
 */
export function readerThreads<N extends CaptureMethodName>(
  name: N,
  single: (ctx: OpenContext) => CaptureSession,
  adjust?: (ctx: OpenContext) => (s: SessionStats) => SessionStats,
): { name: N; open: (ctx: OpenContext) => CaptureSession; release: () => void } {
  return {
    name,
    open: (ctx) =>
      ctx.threads > 1 && ctx.reader === null
        ? new ThreadedSession(name, ctx, adjust?.(ctx))
        : single(ctx),
    release: () => endReaders(name),
  };
}
