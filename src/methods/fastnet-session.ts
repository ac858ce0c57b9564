/**
 * A session on /dev/fastnet, the project's kernel module (kmod/fastnet), shared by
 * `fastnet-read` (READ mode: the module queues stolen frames, one read() returns one),
 * `fastnet-ring` (RING mode: the module copies frames into slots of pages this process maps) and
 * `fastnet-zc` (ZC, "mode 3": the NIC writes frames into such slots itself, no skb; read exactly
 * as RING). Both tiers: js runs doSomething in TypeScript (READ: over each read()'s buffer;
 * RING, ZC: over the slots in place, through the ring's external ArrayBuffer), native runs the
 * same loop and the C counter in the addon. Drops come from the module's own statistics (in ZC,
 * what the NIC itself dropped for want of a slot is the capture port's rx_missed_errors).
 */
import { doSomething } from '../core/counter.js';
import type { Step } from '../core/consume-loop.js';
import { fromNative } from '../shared/errors.js';
import {
  availability,
  type Availability,
  type OpenContext,
  type SessionStats,
} from '../core/method.js';
import {
  native,
  type FastnetHandle,
  type FastnetMode,
  type FastnetStats,
} from '../native/binding.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { socketBytesPerFrame } from './buffer-sizing.js';
import { SteppedSession } from './stepped-session.js';
import { optionValue } from '../core/method-options.js';
import { BATCH } from './batch.js';

export type { FastnetMode };

/**
 * Mirrors kmod/fastnet/fastnet_uapi.h: FASTNET_MAX_DEPTH and FASTNET_SLOT_SIZE; a ZC slot is a
 * page (the NIC's buffer must not cross one).
 */
export const FASTNET_MAX_DEPTH = 2 ** 18;
export const FASTNET_SLOT_SIZE = 2048;
const ZC_SLOT_SIZE = 4096;
/** Room beyond the frames a drain holds, so the queue or ring never decides a drain's outcome. */
const DRAIN_SLACK = 1024;

/** The largest --count a drain can hold: the module's bound less the slack. */
export const FASTNET_MAX_HOLD = FASTNET_MAX_DEPTH - DRAIN_SLACK;
/** ZC: a page a slot, DMA-mapped for the binding's life: 256 MiB at most, not the module's 1 GiB. */
export const FASTNET_ZC_MAX_HOLD = 2 ** 16 - DRAIN_SLACK;
/**
 * How long stats() reads again for a moment when no frame is inside the module's rx_handler. A
 * frame is there for one softirq run; traffic that keeps coming may leave no such moment, and
 * then the last reading stands.
 */
const SETTLED_READ_MS = 20;
/** The errno a driver without fastnet's ZC hook answers with. */
const EOPNOTSUPP = 95;

/** Frames the module has finished with: read or in a slot, queued, dropped, or freed on purpose. */
function finished(s: FastnetStats): number {
  return s.delivered + s.queued + s.dropped + s.discarded;
}

/**
 * Queue bound (READ) or slots (RING, ZC). Drain: everything the generator sends, plus slack. Live:
 * what LIVE_BUFFER_BYTES buys, as every other method gets, so drops compare mechanisms.
 */
export function fastnetDepth(ctx: OpenContext, mode: FastnetMode): number {
  if (ctx.mode === 'drain') return Math.min(FASTNET_MAX_DEPTH, ctx.holdFrames + DRAIN_SLACK);
  const perFrame =
    mode === 'zc'
      ? ZC_SLOT_SIZE
      : mode === 'ring'
        ? FASTNET_SLOT_SIZE
        : socketBytesPerFrame(ctx.maxFrameBytes);
  return Math.min(FASTNET_MAX_DEPTH, Math.floor(LIVE_BUFFER_BYTES / perFrame));
}

/**
 * fastnet binds one open file to an interface, and a second bind to the same interface is refused
 * (EBUSY): the module has no way to share an interface's frames between readers.
 */
export function fastnetSpread(): Availability {
  return {
    available: false,
    reason:
      'fastnet binds one reader per interface (the module has no fanout): it reads on one thread only',
  };
}

export function fastnetProbe(): Availability {
  return availability(native().fastnetProbe());
}

/**
 * ZC also needs the capture interface's driver to take it: only capbench's patched e1000 has
 * fastnet's hook. Asked of the module without binding anything (FASTNET_IOC_CHECK_MODE).
 */
export function fastnetZcProbe(ifname: string | null): Availability {
  const p = fastnetProbe();
  if (!p.available || ifname === null) return p;
  try {
    native().fastnetCheck(ifname, 'zc');
    return { available: true };
  } catch (err) {
    // No hook in the driver: the test bed's veth, or any NIC but capbench's e1000.
    const noHook = (err as { errno?: unknown }).errno === EOPNOTSUPP;
    const where = noHook
      ? ': it runs in two-port mode on such a port (--iface CAP --gen-iface GEN, as npm run bench:vm does in the VM)'
      : '';
    return { available: false, reason: (err as Error).message + where };
  }
}

/** Room for the largest frame plus the 4-byte VLAN tag the module puts back. */
function readBufferBytes(maxFrameBytes: number): number {
  return Math.max(2048, maxFrameBytes + 4);
}

export class FastnetSession extends SteppedSession {
  /** The module delivers each frame as it arrives: nothing waits to be retired. */
  readonly settleMs = 0;
  private readonly handle: FastnetHandle;
  protected readonly step: Step;

  constructor(ctx: OpenContext, mode: FastnetMode) {
    super();
    const depth = fastnetDepth(ctx, mode);
    try {
      this.handle = new (native().FastnetHandle)({ ifname: ctx.ifname, mode, depth });
    } catch (err) {
      throw fromNative(err, `bind /dev/fastnet to ${ctx.ifname} in ${mode} mode`);
    }
    const handle = this.handle;
    if (ctx.tier === 'native')
      this.step = this.nativeStep((max, slice, idle) => handle.consumeNative(max, slice, idle));
    else this.step = mode === 'read' ? this.jsReadStep(ctx) : this.jsRingStep(ctx);
  }

  private jsReadStep(ctx: OpenContext): Step {
    const buf = new Uint8Array(readBufferBytes(ctx.maxFrameBytes));
    const table = new Uint32Array(2);
    const latency = ctx.latency;
    return (_max, waitMs) => {
      if (this.handle.readOne(buf, table, waitMs) === 0) return 0;
      this.received++;
      this.ipv4 += doSomething(buf, table[0]!, table[1]!);
      latency?.offer(buf, table[0]!, table[1]!);
      return 1;
    };
  }

  /** Frames are counted where the module wrote them; the slots go back after each batch. */
  private jsRingStep(ctx: OpenContext): Step {
    const ringBuffer = this.handle.ring;
    if (ringBuffer === null) {
      this.handle.close();
      throw new Error('fastnet: a RING handle came without its ring');
    }
    const ring = new Uint8Array(ringBuffer);
    const batch = Math.max(1, optionValue(ctx.values, BATCH));
    const table = new Uint32Array(2 * batch);
    const latency = ctx.latency;
    return (max, waitMs) => {
      const n = this.handle.nextSlots(table, Math.min(batch, max), waitMs);
      if (n === 0) return 0;
      this.countPairs(ring, table, n, latency);
      this.handle.releaseSlots();
      return n;
    };
  }

  /**
   * `seen` counts only frames the module has finished with. The module counts a frame received
   * as its rx_handler takes it, before the frame is anywhere this session can read it: a caller
   * that reads until `seen` stops moving could otherwise stop with a frame between the two. So
   * the counts are read again, briefly, until received and the finished frames agree.
   */
  stats(): SessionStats {
    const deadline = performance.now() + SETTLED_READ_MS;
    let s = this.handle.stats();
    while (s.received !== finished(s) && performance.now() < deadline) s = this.handle.stats();
    return { seen: finished(s), drops: s.dropped, calls: s.calls, wakeups: s.wakeups };
  }

  close(): void {
    this.handle.close();
  }
}
