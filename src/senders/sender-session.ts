/**
 * The one send session every send method runs: a socket the addon opens in the sender's
 * namespace (src/native/send/sender.c), driven either from TypeScript, one addon call per system
 * call (the js tier: what a Node program pays), or by the addon's C loop (native), which makes the
 * same calls. A method is only the options it opens the socket with.
 */
import { availability, type Availability } from '../core/method.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SLICE_MS, throwIfAborted } from '../core/consume-loop.js';
import type { Tier } from '../core/config.js';
import type { SendLimit, SendOpenContext, SendSession, SendStats } from '../core/send-method.js';
import { native } from '../native/binding.js';
import { fromNative } from '../shared/errors.js';

/** How the socket hands units over: a send() each, sendmmsg() batches, or TX ring slots and a kick. */
export type SendCall = 'send' | 'sendmmsg' | 'tx-ring';

export interface SenderOptions {
  kind: 'packet' | 'udp' | 'tcp';
  netnsPath: string | null;
  ifname: string;
  call: SendCall;
  qdiscBypass: boolean;
  srcAddr: string;
  dstAddr: string;
  dstPort: number;
  zerocopy: boolean;
  gsoSize: number;
  data: Uint8Array;
  batch: number;
  maxFrameBytes: number;
}

/** What a send method chooses of its socket; the rest of SenderOptions comes from the context. */
export type SocketChoice = Pick<SenderOptions, 'kind' | 'call'> &
  Partial<Pick<SenderOptions, 'qdiscBypass' | 'zerocopy' | 'gsoSize'>>;

/**
 * The addon's part for the send methods (src/native/send/sender_binding.cc), declared here,
 * beside its one user.
 */
declare module '../native/binding.js' {
  interface NativeBinding {
    Sender: new (options: SenderOptions) => Sender;
    /** Whether SO_ZEROCOPY is accepted on a socket of that protocol here. */
    senderProbe(kind: 'udp-zerocopy' | 'tcp-zerocopy'): LibraryProbe;
  }
}

/**
 * What a send method's native handle does, whichever mechanism is under it (the Sender class of
 * src/native/send/, io-uring's IoUringSender): the session below drives any of them the same way.
 */
export interface Sender {
  /** The sender's own copy of the units' bytes, which zero-copy sends point into; detached by close(). */
  readonly data: ArrayBuffer;
  /** One send(): bytes taken (TCP may take part), 0 when the kernel has no room now. */
  send(offset: number, length: number): number;
  /** One sendmmsg() of the first n pairs, or n frames into TX ring slots and one kick: units taken. */
  sendBatch(table: Uint32Array, n: number): number;
  /** After a 0: waits for room (poll, or a short back-off after ENOBUFS), reaping completions. */
  wait(timeoutMs: number): void;
  runNative(
    table: Uint32Array,
    units: number,
    maxUnits: number,
    sliceMs: number,
  ): { units: number; bytes: number };
  finish(timeoutMs: number): void;
  shutdown(): void;
  stats(): SendStats;
  close(): void;
}

/** How long one wait for room may last before the loop looks at the clock and the signal. */
const WAIT_MS = 5;
/**
 * How long finish() waits for the kernel to give back what it holds: TX ring slots (an error
 * after it), zero-copy completions (what is left is reported as outstanding).
 */
const FINISH_MS = 2_000;

export class SenderSession implements SendSession {
  private readonly sender: Sender;
  private readonly tier: Tier;
  private readonly call: SendCall;
  private readonly table: Uint32Array;
  private readonly units: number;
  private readonly batch: number;
  /** Batch views of the table, per starting unit: `units + batch` pairs, so any run of pairs is contiguous. */
  private readonly views: Uint32Array[] = [];
  private next = 0;
  /** TCP: bytes of the next unit already taken by a partial write. */
  private partial = 0;

  /**
   * `choice`: what differs between methods; where and to whom come from ctx. `open` makes the
   * native handle: the Sender class unless a mechanism brings its own.
   */
  constructor(
    ctx: SendOpenContext,
    choice: SocketChoice,
    open: (options: SenderOptions) => Sender = (o) => new (native().Sender)(o),
  ) {
    const options = {
      kind: choice.kind,
      call: choice.call,
      netnsPath: ctx.netnsPath,
      ifname: ctx.ifname,
      qdiscBypass: choice.qdiscBypass ?? false,
      srcAddr: ctx.srcAddr,
      dstAddr: ctx.dstAddr,
      dstPort: ctx.dstPort,
      zerocopy: choice.zerocopy ?? false,
      gsoSize: choice.gsoSize ?? 0,
    };
    this.tier = ctx.tier;
    this.call = options.call;
    this.batch = options.call === 'send' ? 1 : ctx.config.batch;
    this.units = ctx.units.count;
    try {
      this.sender = open({
        ...options,
        data: ctx.units.data,
        batch: this.batch,
        maxFrameBytes: ctx.maxUnitBytes,
      });
    } catch (err) {
      throw fromNative(err, `open a ${options.kind} socket to send on ${ctx.ifname}`);
    }
    // The pairs wrapped around, so a batch starting at any unit reads one contiguous run.
    const n = this.units + this.batch;
    this.table = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      this.table[2 * i] = ctx.units.table[2 * (i % this.units)]!;
      this.table[2 * i + 1] = ctx.units.table[2 * (i % this.units) + 1]!;
    }
  }

  async send(limit: SendLimit): Promise<void> {
    let done = 0;
    while (done < limit.units) {
      throwIfAborted(limit.signal);
      done +=
        this.tier === 'native'
          ? this.sender.runNative(this.table, this.units, limit.units - done, SLICE_MS).units
          : this.jsSlice(limit.units - done);
      await yieldToEventLoop();
    }
  }

  /** The js tier: the same calls the C loop makes, from TypeScript, for one slice. */
  private jsSlice(max: number): number {
    const until = performance.now() + SLICE_MS;
    const s = this.sender;
    let done = 0;
    let calls = 0;
    while (done < max) {
      let took: number;
      if (this.call === 'send') {
        const off = this.table[2 * this.next]!;
        const len = this.table[2 * this.next + 1]!;
        const bytes = s.send(off + this.partial, len - this.partial);
        if (bytes === 0) {
          took = 0;
          s.wait(WAIT_MS);
        } else if (this.partial + bytes < len) {
          // A TCP write taken in part: the rest goes next, and the unit counts once whole.
          this.partial += bytes;
          took = 0;
        } else {
          this.partial = 0;
          took = 1;
        }
      } else {
        took = s.sendBatch(this.view(this.next), Math.min(this.batch, max - done));
        if (took === 0) s.wait(WAIT_MS);
      }
      done += took;
      this.next = (this.next + took) % this.units;
      // A clock read per call would be a visible share of a cheap call: once per 64 calls, and
      // after every wait.
      if (((++calls & 63) === 0 || took === 0) && performance.now() >= until) break;
    }
    return done;
  }

  private view(at: number): Uint32Array {
    return (this.views[at] ??= this.table.subarray(2 * at, 2 * (at + this.batch)));
  }

  finish(): void {
    this.sender.finish(FINISH_MS);
  }

  shutdown(): void {
    this.sender.shutdown();
  }

  stats(): SendStats {
    return this.sender.stats();
  }

  close(): void {
    this.sender.close();
  }
}

/** Whether MSG_ZEROCOPY can run here on that protocol. */
export function zerocopyProbe(kind: 'udp-zerocopy' | 'tcp-zerocopy'): Availability {
  return availability(native().senderProbe(kind));
}
