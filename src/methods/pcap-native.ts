/**
 * libpcap driven by the addon: pcap_dispatch() in batches, pcap_stats() for drops. libpcap builds
 * a TPACKET_V3 ring and hands each block back to the kernel before pcap_dispatch() returns, so the
 * js tier gets copies of the frames in a batch buffer; the native tier counts in libpcap's own
 * buffer, in its callback.
 */
import type { Step } from '../core/consume-loop.js';
import { fromNative } from '../shared/errors.js';
import {
  availability,
  type CaptureMethod,
  type OpenContext,
  type SessionStats,
} from '../core/method.js';
import { native, type PcapHandle } from '../native/binding.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { MAX_PCAP_BUFFER, ringBytesPerFrame } from './buffer-sizing.js';
import { SteppedSession } from './stepped-session.js';
import { optionValue } from '../core/method-options.js';
import { BATCH } from './batch.js';

/** In drain mode a block is retired this long after its first frame even if not full. */
const DRAIN_RETIRE_MS = 100;

function snaplenFor(maxFrameBytes: number): number {
  return Math.max(2048, maxFrameBytes + 4);
}

/**
 * Drain: libpcap's ring is sized at half as much again as the frames need, so that a fill never
 * takes more than two thirds of it. Past three quarters a frame can be dropped with room to spare:
 * the kernel checks for room without the queue's lock (`__packet_rcv_has_room()` in
 * net/packet/af_packet.c), first at the block a quarter of the ring ahead, which is then taken,
 * then at the current block, which a retire timer on another CPU may be closing at that moment
 * (bench/README.md, "Figures behind design choices in the code"). Blocks retired part-full waste
 * the rest of the block; the margin covers that too.
 */
const ROOM = 1.5;

function bufferFor(frames: number, frameBytes: number): number {
  return Math.min(
    MAX_PCAP_BUFFER,
    Math.ceil(frames * ringBytesPerFrame(frameBytes) * ROOM) + 2 ** 20,
  );
}

class PcapNativeSession extends SteppedSession {
  readonly settleMs: number;
  private readonly handle: PcapHandle;
  protected readonly step: Step;

  constructor(ctx: OpenContext) {
    super();
    const snaplen = snaplenFor(ctx.maxFrameBytes);
    const drain = ctx.mode === 'drain';
    try {
      this.handle = new (native().PcapHandle)({
        ifname: ctx.ifname,
        snaplen,
        bufferBytes: drain ? bufferFor(ctx.holdFrames, ctx.maxFrameBytes) : LIVE_BUFFER_BYTES,
        timeoutMs: drain ? DRAIN_RETIRE_MS : 1,
        immediate: !drain,
      });
    } catch (err) {
      throw fromNative(err, `open libpcap on ${ctx.ifname}`);
    }
    this.settleMs = drain ? DRAIN_RETIRE_MS + 50 : 10;
    const handle = this.handle;
    if (ctx.tier === 'native') {
      this.step = this.nativeStep((max, slice, idle) => handle.consumeNative(max, slice, idle));
    } else {
      const batch = optionValue(ctx.values, BATCH);
      const buf = new Uint8Array(snaplen * batch);
      const table = new Uint32Array(2 * batch);
      const latency = ctx.latency;
      this.step = (max, waitMs) => {
        const n = this.handle.dispatch(buf, table, Math.min(batch, max), waitMs);
        return this.countPairs(buf, table, n, latency);
      };
    }
  }

  stats(): SessionStats {
    const s = this.handle.stats();
    return { seen: s.received, drops: s.dropped + s.ifDropped, calls: s.calls, wakeups: s.wakeups };
  }

  close(): void {
    this.handle.close();
  }
}

export const pcapNative = {
  name: 'pcap-native',
  summary: 'libpcap driven by the addon: pcap_dispatch() batches, pcap_stats() drops',
  tiers: ['js', 'native'],
  options: [BATCH],
  // Its reads happen inside pcap_dispatch(): what the addon counts are its calls into libpcap.
  callsAre: 'libpcap calls',
  probe: () => availability(native().pcapProbe()),
  maxHoldFrames: (frameBytes) =>
    Math.floor((MAX_PCAP_BUFFER - 2 ** 20) / ROOM / ringBytesPerFrame(frameBytes)),
  // libpcap has no call to join a PACKET_FANOUT group (checked up to 1.10): a handle per thread
  // would each see every frame. Joining one behind libpcap's back through pcap_fileno() would no
  // longer measure libpcap.
  spread() {
    const p = native().pcapProbe();
    return {
      available: false,
      reason: `${p.version || 'libpcap'} has no fanout support: a handle per thread would each see every frame`,
    };
  },
  open: (ctx) => new PcapNativeSession(ctx),
} satisfies CaptureMethod;
