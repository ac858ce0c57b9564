/**
 * A session on an AF_PACKET SOCK_RAW socket, shared by `socket` (one recv() per frame) and
 * `socket-mmsg` (recvmmsg() batches). Both tiers: js runs doSomething over each frame in
 * TypeScript, native runs the same loop and the C counter inside the addon.
 */
import { countTable, doSomething } from '../core/counter.js';
import { drive, type Step } from '../core/consume-loop.js';
import { fromNative } from '../core/errors.js';
import type { CaptureSession, ConsumeLimit, OpenContext, SessionStats } from '../core/method.js';
import { native, type PacketSocket } from '../native/binding.js';
import { LIVE_BUFFER_BYTES, socketBufferFor } from './buffer-sizing.js';

/** Room for the largest frame plus the 4-byte VLAN tag the addon puts back. */
function slotBytes(maxFrameBytes: number): number {
  return Math.max(2048, maxFrameBytes + 4);
}

export class PacketSocketSession implements CaptureSession {
  received = 0;
  ipv4 = 0;
  readonly readsOnEventLoop = false;
  readonly settleMs = 0;
  private readonly sock: PacketSocket;
  private readonly step: Step;

  constructor(ctx: OpenContext, batch: number) {
    const rcvbufBytes =
      ctx.mode === 'drain' ? socketBufferFor(ctx.holdFrames, ctx.maxFrameBytes) : LIVE_BUFFER_BYTES;
    try {
      this.sock = new (native().PacketSocket)({ ifname: ctx.ifname, rcvbufBytes });
    } catch (err) {
      throw fromNative(err, `open AF_PACKET socket on ${ctx.ifname}`);
    }
    this.step = ctx.tier === 'native' ? this.nativeStep(batch) : batch === 1 ? this.jsRecvStep(ctx) : this.jsBatchStep(ctx, batch);
  }

  private jsRecvStep(ctx: OpenContext): Step {
    const buf = new Uint8Array(slotBytes(ctx.maxFrameBytes));
    const table = new Uint32Array(2);
    const latency = ctx.latency;
    return (_max, waitMs) => {
      if (this.sock.recvOne(buf, table, waitMs) === 0) return 0;
      this.received++;
      this.ipv4 += doSomething(buf, table[0]!, table[1]!);
      latency?.offer(buf, table[0]!, table[1]!);
      return 1;
    };
  }

  private jsBatchStep(ctx: OpenContext, batch: number): Step {
    const buf = new Uint8Array(slotBytes(ctx.maxFrameBytes) * batch);
    const table = new Uint32Array(2 * batch);
    const latency = ctx.latency;
    return (max, waitMs) => {
      const n = this.sock.recvBatch(buf, table, Math.min(batch, max), waitMs);
      this.received += n;
      this.ipv4 += countTable(buf, table, n);
      if (n > 0) latency?.offer(buf, table[2 * n - 2]!, table[2 * n - 1]!);
      return n;
    };
  }

  private nativeStep(batch: number): Step {
    return (max, waitMs) => {
      const r = this.sock.consumeNative(max, batch, 20, waitMs);
      this.received += r.received;
      this.ipv4 += r.ipv4;
      return r.received;
    };
  }

  consume(limit: ConsumeLimit): Promise<number> {
    return drive(limit, () => this.received, this.step);
  }

  stats(): SessionStats {
    const s = this.sock.stats();
    return { seen: s.packets, drops: s.drops };
  }

  close(): void {
    this.sock.close();
  }
}
