/**
 * io-uring: the AF_PACKET socket of socket-mmsg, read through io_uring. One multishot recvmsg
 * keeps receiving into a ring of 4096 provided buffers; the reader walks the completion queue in
 * shared memory and hands each buffer back, with no receive call per frame or per batch. Both
 * tiers read the frames where the kernel put them: js through the buffer area as an external
 * ArrayBuffer, one addon call per step; native in C.
 */
import type { Step } from '../core/consume-loop.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import {
  availability,
  type CaptureMethod,
  type OpenContext,
  type SessionStats,
} from '../core/method.js';
import { native, type KernelCalls, type NativeCount } from '../native/binding.js';
import { fromNative } from '../shared/errors.js';
import { MAX_SOCKET_BUFFER, socketBufferFor, socketBytesPerFrame } from './buffer-sizing.js';
import { fanoutJoin, fanoutSpread } from './fanout.js';
import { SteppedSession } from './stepped-session.js';
import { readerThreads } from './threaded-session.js';

/** The most frames one step takes (CB_URING_MAX_TAKE in io_uring_recv.h). */
const MAX_TAKE = 1024;

/**
 * The addon's part for this method (src/native/io-uring/io_uring_recv_binding.cc), declared
 * here, beside its one user, rather than in native/binding.ts.
 */
declare module '../native/binding.js' {
  interface NativeBinding {
    IoUringSocket: new (options: PacketSocketOptions) => IoUringSocket;
    /** Whether io_uring can be set up here (kernel.io_uring_disabled, headers at build time). */
    ioUringProbe(): LibraryProbe;
  }
}

/** An AF_PACKET socket (as PacketSocket's options make it) and an io_uring reading it. */
interface IoUringSocket {
  /** The provided buffers, where `next`'s pairs point; detached by close(). */
  readonly buffers: ArrayBuffer;
  readonly fanoutGroup: number;
  /**
   * Gives back the previous call's buffers, then takes up to maxFrames (≤ 1024) from the
   * completion queue as (offset in `buffers`, length) pairs, waiting up to timeoutMs when none
   * is ready. The frames stay put until the next call, consumeNative or close.
   */
  next(table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): KernelCalls & { packets: number; drops: number };
  close(): void;
}

class IoUringSession extends SteppedSession {
  readonly settleMs = 0;
  private readonly sock: IoUringSocket;
  protected readonly step: Step;

  constructor(ctx: OpenContext) {
    super();
    const rcvbufBytes =
      ctx.mode === 'drain' ? socketBufferFor(ctx.holdFrames, ctx.maxFrameBytes) : LIVE_BUFFER_BYTES;
    try {
      this.sock = new (native().IoUringSocket)({
        ifname: ctx.ifname,
        rcvbufBytes,
        fanout: fanoutJoin(ctx),
      });
    } catch (err) {
      throw fromNative(err, `open io_uring on an AF_PACKET socket on ${ctx.ifname}`);
    }
    const sock = this.sock;
    this.step =
      ctx.tier === 'native'
        ? this.nativeStep((max, slice, idle) => sock.consumeNative(max, slice, idle))
        : this.jsStep(ctx);
  }

  private jsStep(ctx: OpenContext): Step {
    const view = new Uint8Array(this.sock.buffers);
    const table = new Uint32Array(2 * MAX_TAKE);
    const latency = ctx.latency;
    return (max, waitMs) => {
      const n = this.sock.next(table, Math.min(MAX_TAKE, max), waitMs);
      return this.countPairs(view, table, n, latency);
    };
  }

  get fanoutGroup(): number {
    return this.sock.fanoutGroup;
  }

  stats(): SessionStats {
    const s = this.sock.stats();
    return { seen: s.packets, drops: s.drops, calls: s.calls, wakeups: s.wakeups };
  }

  close(): void {
    this.sock.close();
  }
}

export const ioUring = {
  ...readerThreads('io-uring', (c) => new IoUringSession(c)),
  summary:
    "socket-mmsg's AF_PACKET socket read through io_uring: one multishot recvmsg into provided buffers, frames read in place",
  tiers: ['js', 'native'],
  probe: () => availability(native().ioUringProbe()),
  // Until the reader starts, frames wait in the socket's queue, as socket-mmsg's do.
  maxHoldFrames: (frameBytes) => Math.floor(MAX_SOCKET_BUFFER / socketBytesPerFrame(frameBytes)),
  spread: fanoutSpread,
} satisfies CaptureMethod;
