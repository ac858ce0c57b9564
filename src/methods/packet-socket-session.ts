/**
 * A session on an AF_PACKET SOCK_RAW socket, shared by `socket` (one recv() per frame) and
 * `socket-mmsg` (recvmmsg() batches). Both tiers: js runs doSomething over each frame in
 * TypeScript, native runs the same loop and the C counter inside the addon.
 */
import { doSomething } from '../core/counter.js';
import type { Step } from '../core/consume-loop.js';
import { fromNative } from '../shared/errors.js';
import type { OpenContext, SessionStats } from '../core/method.js';
import { native, type PacketSocket } from '../native/binding.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { socketBufferFor } from './buffer-sizing.js';
import { fanoutJoin } from './fanout.js';
import { SteppedSession } from './stepped-session.js';

/** Room for the largest frame plus the 4-byte VLAN tag the addon puts back. */
function slotBytes(maxFrameBytes: number): number {
  return Math.max(2048, maxFrameBytes + 4);
}

export class PacketSocketSession extends SteppedSession {
  readonly settleMs = 0;
  private readonly sock: PacketSocket;
  protected readonly step: Step;

  constructor(ctx: OpenContext, batch: number) {
    super();
    const rcvbufBytes =
      ctx.mode === 'drain' ? socketBufferFor(ctx.holdFrames, ctx.maxFrameBytes) : LIVE_BUFFER_BYTES;
    try {
      this.sock = new (native().PacketSocket)({
        ifname: ctx.ifname,
        rcvbufBytes,
        fanout: fanoutJoin(ctx),
      });
    } catch (err) {
      throw fromNative(err, `open AF_PACKET socket on ${ctx.ifname}`);
    }
    const sock = this.sock;
    this.step =
      ctx.tier === 'native'
        ? this.nativeStep((max, slice, idle) => sock.consumeNative(max, batch, slice, idle))
        : batch === 1
          ? this.jsRecvStep(ctx)
          : this.jsBatchStep(ctx, batch);
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
      return this.countPairs(buf, table, n, latency);
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
