/**
 * AF_XDP: an XDP program in driver mode redirects each receive queue's frames into an AF_XDP
 * socket, which writes them into UMEM, memory this process shares with the kernel. The js tier
 * reads frames where they lie, through one Uint8Array over the UMEM and a table of (offset,
 * length) pairs per batch; the native tier runs the same loop and the C counter in the addon.
 * Ring handling (fill, rx) stays in C: JS has no memory barriers for memory shared with the kernel.
 *
 * Copy mode (XDP_COPY) by default: on veth the kernel copies each frame into the UMEM in softirq,
 * on the sender's CPU. --zerocopy asks for XDP_ZEROCOPY, which only NIC drivers with AF_XDP
 * zero-copy support give; elsewhere (veth) it is refused as a usage error.
 *
 * --queues N binds one socket, each with its own UMEM, to each of queues 0..N-1. Frames the
 * interface delivers on other queues go on to the stack and are not seen. With --threads T the
 * queues are max(N, T) (on the test bed, all of its queues), dealt out to T reader threads:
 * thread t reads queues t, t + T, ...
 */
import { constants } from 'node:os';
import { countTable } from '../core/counter.js';
import { SLICE_MS, type Step } from '../core/consume-loop.js';
import { fromNative, UsageError } from '../shared/errors.js';
import type { LatencySampler } from '../core/latency.js';
import {
  availability,
  type CaptureMethod,
  type MethodOptions,
  type OpenContext,
  type SessionStats,
} from '../core/method.js';
import { native, type AfXdpSocket } from '../native/binding.js';
import { rxQueueCount } from '../net/nic-queues.js';
import { forgetXdpAttach, recordXdpAttach } from '../net/xdp-leftovers.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { SteppedSession } from './stepped-session.js';
import { interfaceDropsSince, readNumber, withoutInterfaceDrops } from './xdp-redirect-drops.js';
import { readerThreads } from './threaded-session.js';
import { optionValue, type MethodOption } from '../core/method-options.js';
import { positiveInt } from '../shared/parse-number.js';
import { BATCH } from './batch.js';

/** Copy mode puts each frame XDP_PACKET_HEADROOM bytes into its UMEM frame. */
const XDP_HEADROOM = 256;
/** All queues' UMEM together, at most: table offsets are 32-bit and it is pinned memory. */
const MAX_UMEM_BYTES = 2 ** 30;
/** UMEM frames beyond what a drain holds, so the fill ring is never empty when the last frame lands. */
const SPARE_FRAMES = 1024;
const MIN_RING = 64;
const MAX_RING = 2 ** 22;
/** Most frames one receive() may hand over (the addon's limit). */
const MAX_BATCH = 4096;
/** Most batches one js step reads from a socket before handing back to the consume loop. */
const READ_BATCHES = 16;
/** Copy mode on veth runs in the sender's softirq: frames are in the ring once the sender is done. */
const SETTLE_MS = 10;
const { EOPNOTSUPP } = constants.errno;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** UMEM frame size for the largest frame: 2048 or 4096 bytes, headroom included. */
function frameBytesFor(maxFrameBytes: number): number {
  if (maxFrameBytes + XDP_HEADROOM <= 2048) return 2048;
  if (maxFrameBytes + XDP_HEADROOM <= 4096) return 4096;
  throw new UsageError(
    `af-xdp: frames of ${maxFrameBytes} bytes do not fit a 4096-byte UMEM frame after its ${XDP_HEADROOM} bytes of headroom (no multi-buffer AF_XDP here)`,
  );
}

/**
 * Queues bound in all: --queues, one per reader thread where there are more threads, and on the
 * test bed every queue it has, since its generator threads send on as many queues as CPUs they use.
 */
function queuesOf(options: Pick<MethodOptions, 'values' | 'threads' | 'testbedQueues'>): number {
  return Math.max(optionValue(options.values, QUEUES), options.threads, options.testbedQueues);
}

/** The queues reader `index` of `of` reads: its share of 0..queues-1, dealt round robin. */
function readerQueues(queues: number, reader: { index: number; of: number } | null): number[] {
  const all = Array.from({ length: queues }, (_, q) => q);
  return reader === null ? all : all.filter((q) => q % reader.of === reader.index);
}

function maxHoldFrames(frameBytes: number, options: MethodOptions): number | null {
  const chunk = frameBytes + XDP_HEADROOM <= 2048 ? 2048 : 4096;
  const perQueue = Math.floor(MAX_UMEM_BYTES / queuesOf(options) / chunk);
  return Math.max(0, Math.min(perQueue, MAX_RING) - SPARE_FRAMES);
}

/** Refuses more queues than the interface has, where the kernel says how many. */
function checkQueues(wanted: number, ifname: string): void {
  const queues = rxQueueCount(ifname);
  if (queues !== null && wanted > queues)
    throw new UsageError(tooFewQueues(wanted, ifname, queues));
}

function tooFewQueues(wanted: number, ifname: string, queues: number): string {
  return `--queues/--threads ${wanted}: ${ifname} has ${queues} receive queue${queues === 1 ? '' : 's'}, and af-xdp binds one socket to each of queues 0..${wanted - 1}`;
}

interface Sizing {
  frameBytes: number;
  frameCount: number;
  ringSize: number;
}

/**
 * Drain: every socket must hold ctx.holdFrames unread (which queue a frame lands on is the
 * interface's choice), so UMEM frames and both rings cover that plus spare. Live: the UMEM is
 * LIVE_BUFFER_BYTES, as every method's kernel buffer is in live mode, and the rings match it.
 */
function sizing(ctx: OpenContext): Sizing {
  let frameBytes = frameBytesFor(ctx.maxFrameBytes);
  // With --iface the traffic is not the fixture's: leave room for what the MTU lets through
  // (a larger frame than the UMEM frame holds would be dropped, and counted as such).
  const mtu = readNumber(`/sys/class/net/${ctx.ifname}/mtu`);
  if (ctx.mode === 'live' && mtu !== null && mtu + 18 + XDP_HEADROOM > frameBytes)
    frameBytes = 4096;
  if (ctx.mode === 'drain') {
    const max = maxHoldFrames(ctx.maxFrameBytes, ctx) ?? 0;
    if (ctx.holdFrames > max) {
      const queues = queuesOf(ctx);
      throw new UsageError(
        `af-xdp: ${ctx.holdFrames} frames do not fit in ${queues} × UMEM of at most ${MAX_UMEM_BYTES / queues} bytes: at most ${max}`,
      );
    }
    const frameCount = ctx.holdFrames + SPARE_FRAMES;
    return {
      frameBytes,
      frameCount,
      ringSize: Math.min(MAX_RING, Math.max(MIN_RING, nextPow2(frameCount))),
    };
  }
  const frameCount = Math.max(MIN_RING, Math.floor(LIVE_BUFFER_BYTES / frameBytes));
  return { frameBytes, frameCount, ringSize: Math.min(MAX_RING, nextPow2(frameCount)) };
}

/** Both tiers peek the same number of rx descriptors at a time: the same loop. */
function batchOf(ctx: OpenContext): number {
  return Math.max(1, Math.min(MAX_BATCH, optionValue(ctx.values, BATCH)));
}

function openSocket(ctx: OpenContext, queue: number, size: Sizing): AfXdpSocket {
  try {
    return new (native().AfXdpSocket)({
      ifname: ctx.ifname,
      queue,
      ...size,
      batch: batchOf(ctx),
      zeroCopy: optionValue(ctx.values, ZEROCOPY),
    });
  } catch (err) {
    const errno = (err as { errno?: unknown }).errno;
    if (optionValue(ctx.values, ZEROCOPY) && errno === EOPNOTSUPP && err instanceof Error) {
      throw new UsageError(`--zerocopy: ${err.message}`);
    }
    throw fromNative(err, `open AF_XDP socket on ${ctx.ifname} queue ${queue}`);
  }
}

/**
 * The js tier's loop: receive (which gives the previous batch back) → the TS counter over the
 * UMEM, in place. A class rather than closures made per session, and several batches per call
 * while a ring has them: the measured window then runs code the warm-up window already
 * optimized, not a fresh closure V8 tiers up part-way through a window of a few milliseconds.
 */
class UmemReader {
  /** IPv4 frames among those the last read() returned. */
  ipv4 = 0;
  private readonly table: Uint32Array;
  private readonly views: Uint8Array[];
  private next = 0;

  constructor(
    private readonly socks: readonly AfXdpSocket[],
    private readonly batch: number,
    private readonly latency: LatencySampler | null,
  ) {
    this.table = new Uint32Array(2 * batch);
    this.views = socks.map((s) => new Uint8Array(s.umem));
  }

  read(max: number, waitMs: number): number {
    this.ipv4 = 0;
    if (this.socks.length === 1) return this.take(0, max, waitMs);
    let got = 0;
    for (let i = 0; i < this.socks.length && got < max; i++) got += this.take(i, max - got, 0);
    if (got > 0) return got;
    // Nothing anywhere: wait on one queue, a different one each time.
    this.next = (this.next + 1) % this.socks.length;
    return this.take(this.next, max, waitMs);
  }

  /**
   * Batches from one socket until max, until one comes back short (the ring is empty), or
   * READ_BATCHES of them, so a ring that never empties still lets the loop see time and signals.
   */
  private take(i: number, max: number, waitMs: number): number {
    const sock = this.socks[i]!;
    const view = this.views[i]!;
    const table = this.table;
    let got = 0;
    for (let b = 0; b < READ_BATCHES && got < max; b++) {
      const want = Math.min(this.batch, max - got);
      const n = sock.receive(table, want, got === 0 ? waitMs : 0);
      got += n;
      this.ipv4 += countTable(view, table, n);
      if (n > 0) this.latency?.offer(view, table[2 * n - 2]!, table[2 * n - 1]!);
      if (n < want) break;
    }
    return got;
  }
}

class AfXdpSession extends SteppedSession {
  readonly settleMs = SETTLE_MS;
  private readonly socks: AfXdpSocket[] = [];
  protected readonly step: Step;
  private readonly interfaceDrops: () => number;
  private stateFile: string | null = null;
  private closed = false;

  constructor(ctx: OpenContext) {
    super();
    checkQueues(queuesOf(ctx), ctx.ifname);
    const size = sizing(ctx);
    // One reader of several leaves the interface's share of the drops to the whole session (afXdp.open).
    this.interfaceDrops = ctx.reader === null ? interfaceDropsSince(ctx.ifname) : () => 0;
    try {
      for (const q of readerQueues(queuesOf(ctx), ctx.reader))
        this.socks.push(openSocket(ctx, q, size));
      const first = this.socks[0]!;
      // The readers of a spread session share one program (the addon counts its users): the first
      // records it, and is closed last (threaded-session.ts), when the program goes.
      if ((ctx.reader?.index ?? 0) === 0) {
        this.stateFile = recordXdpAttach({
          ifindex: readNumber(`/sys/class/net/${ctx.ifname}/ifindex`) ?? 0,
          ifname: ctx.ifname,
          progId: first.progId,
          attach: first.attachMode,
        });
      }
    } catch (err) {
      this.close();
      throw err;
    }
    this.step =
      ctx.tier === 'native' ? this.nativeQueuesStep() : this.jsStep(batchOf(ctx), ctx.latency);
  }

  private jsStep(batch: number, latency: LatencySampler | null): Step {
    const reader = new UmemReader(this.socks, batch, latency);
    return (max, waitMs) => {
      const n = reader.read(max, waitMs);
      this.received += n;
      this.ipv4 += reader.ipv4;
      return n;
    };
  }

  /** The native tier over every queue's socket, each call bounded by a share of the slice. */
  private nativeQueuesStep(): Step {
    const take = (i: number, max: number, sliceMs: number, idleMs: number): number => {
      const r = this.socks[i]!.consumeNative(max, sliceMs, idleMs);
      this.received += r.received;
      this.ipv4 += r.ipv4;
      return r.received;
    };
    if (this.socks.length === 1) return (max, waitMs) => take(0, max, SLICE_MS, waitMs);
    let next = 0;
    return (max, waitMs) => {
      let got = 0;
      const slice = Math.max(1, Math.floor(SLICE_MS / this.socks.length));
      for (let i = 0; i < this.socks.length && got < max; i++) got += take(i, max - got, slice, 0);
      if (got > 0) return got;
      next = (next + 1) % this.socks.length;
      return take(next, max, SLICE_MS, waitMs);
    };
  }

  /**
   * XDP_STATISTICS summed over queues. In copy mode a frame dropped for want of a fill-ring entry
   * is counted in both rx_dropped and fill_ring_empty, so the latter is left out. A frame the
   * socket refuses also fails the driver's XDP redirect, which some drivers (veth) count as the
   * interface's rx_dropped: the part of the socket's drops the interface has already counted is
   * not reported again here, so sent = received + interface drops + method drops still holds.
   */
  stats(): SessionStats {
    let sockDrops = 0;
    let produced = 0;
    let calls = 0;
    let wakeups = 0;
    for (const sock of this.socks) {
      const s = sock.stats();
      sockDrops += s.rxDropped + s.rxRingFull + s.rxInvalid;
      produced += s.rxProduced;
      calls += s.calls;
      wakeups += s.wakeups;
    }
    return withoutInterfaceDrops(
      { seen: produced + sockDrops, drops: sockDrops, calls, wakeups },
      this.interfaceDrops(),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    let failure: unknown = null;
    for (const sock of this.socks) {
      try {
        sock.close();
      } catch (err) {
        failure ??= err;
      }
    }
    if (this.stateFile !== null) forgetXdpAttach(this.stateFile);
    if (failure !== null) throw fromNative(failure, 'close AF_XDP socket');
  }
}

/** --queues: sockets on queues 0..n-1 (more with --threads, and every queue of the test bed). */
const QUEUES: MethodOption<number> = {
  name: 'queues',
  arg: '<n>',
  help: 'af-xdp: bind a socket to each of queues 0..n-1',
  default: 1,
  parse: (value) => positiveInt('--queues', value),
};

/** --zerocopy: XDP_ZEROCOPY, which only NIC drivers with AF_XDP zero-copy support give. */
const ZEROCOPY: MethodOption<boolean> = {
  name: 'zerocopy',
  help: 'af-xdp: ask for zero-copy (XDP_ZEROCOPY); an error where the driver has none, as on veth',
  default: false,
};

export const afXdp = {
  ...readerThreads(
    'af-xdp',
    (c) => new AfXdpSession(c),
    (ctx) => {
      // The interface's drops are the whole session's, taken out once (see AfXdpSession.stats).
      const interfaceDrops = interfaceDropsSince(ctx.ifname);
      return (s) => withoutInterfaceDrops(s, interfaceDrops());
    },
  ),
  summary: 'AF_XDP socket per queue, XDP redirect in driver mode, frames read in place in the UMEM',
  tiers: ['js', 'native'],
  options: [BATCH, QUEUES, ZEROCOPY],
  probe: () => availability(native().afXdpProbe()),
  queuesNeeded: (values) => optionValue(values, QUEUES),
  maxHoldFrames,
  checkOptions(options, iface) {
    if (iface !== null) {
      checkQueues(optionValue(options.values, QUEUES), iface);
      return;
    }
    // The test bed is made with the queues asked for (queuesNeeded), and veth has no zero-copy AF_XDP.
    if (optionValue(options.values, ZEROCOPY)) {
      throw new UsageError(
        '--zerocopy: zero-copy AF_XDP is not supported by veth (the test bed); use --iface with a NIC whose driver has it',
      );
    }
  },
  // One socket per queue, so a reader thread per queue at most.
  spread(options, iface) {
    const queues = iface === null ? null : rxQueueCount(iface);
    return queues !== null && queuesOf(options) > queues
      ? { available: false, reason: tooFewQueues(queuesOf(options), iface!, queues) }
      : { available: true };
  },
} satisfies CaptureMethod;
