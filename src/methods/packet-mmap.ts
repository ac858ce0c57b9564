/**
 * PACKET_RX_RING with TPACKET_V3: the kernel copies each frame once, in softirq, into blocks of
 * a ring mapped into this process, and hands a block over when it is full or its retire timeout
 * expires. The js tier walks each retired block where the kernel wrote it (the ring is one
 * external ArrayBuffer; see tpacket3-block.ts) and the addon hands the block back on the next
 * call; the native tier walks and counts the blocks in C.
 */
import type { Step } from '../core/consume-loop.js';
import { fromNative, SystemError, UsageError } from '../shared/errors.js';
import type { LatencySampler } from '../core/latency.js';
import type { CaptureMethod, MethodOptions, OpenContext, SessionStats } from '../core/method.js';
import { native, type PacketMmapRing } from '../native/binding.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { fanoutJoin, fanoutSpread } from './fanout.js';
import { readerThreads } from './threaded-session.js';
import { optionValue, type MethodOption } from '../core/method-options.js';
import { positiveInt, positiveNumber } from '../shared/parse-number.js';
import { SteppedSession } from './stepped-session.js';
import { Tpacket3Blocks } from './tpacket3-block.js';

// ---- where a frame sits in a TPACKET_V3 block (net/packet/af_packet.c, tpacket_rcv) -------

/** TPACKET3_HDRLEN: TPACKET_ALIGN(sizeof(struct tpacket3_hdr) = 48) + sizeof(struct sockaddr_ll) = 20. */
const TPACKET3_HDRLEN = 48 + 20;
const ETH_HLEN = 14;
const align = (n: number, a: number): number => Math.ceil(n / a) * a;
/**
 * tp_mac for SOCK_RAW: netoff = TPACKET_ALIGN(tp_hdrlen + max(maclen, 16)) + tp_reserve, and
 * macoff = netoff - maclen, with maclen 14 for Ethernet and no reserve: 82.
 */
const MAC_OFFSET = align(TPACKET3_HDRLEN + Math.max(ETH_HLEN, 16), 16) - ETH_HLEN;
/** BLK_HDR_LEN: the block descriptor (struct tpacket_block_desc), 8-aligned; no private area. */
const BLOCK_HEADER = 48;

/**
 * Block bytes one frame takes: TOTAL_PKT_LEN_INCL_ALIGN(macoff + snaplen), 8-aligned
 * (V3_ALIGNMENT). A 60-byte frame takes 144, a 1514-byte frame 1600.
 */
export function ringFrameBytes(frameBytes: number): number {
  return align(MAC_OFFSET + frameBytes, 8);
}

/** Frames a block holds: the kernel fills while offset + size < block end (strictly). */
export function framesPerBlock(blockBytes: number, frameBytes: number): number {
  return Math.max(0, Math.floor((blockBytes - BLOCK_HEADER - 1) / ringFrameBytes(frameBytes)));
}

// ---- sizing ------------------------------------------------------------------------------

/** --ring-mb: the ring's size, cut into blocks; by default drain sizes it to hold --count. */
const RING_MB: MethodOption<number | null> = {
  name: 'ring-mb',
  arg: '<mib>',
  help: `packet-mmap: ring size in MiB (default: drain sizes it to hold --count, live uses ${LIVE_BUFFER_BYTES / 2 ** 20})`,
  default: null,
  parse: (value) => positiveNumber('--ring-mb', value),
};

/** The ring --ring-mb asks for, in bytes; null: the method sizes it. */
function ringBytesOf(options: Pick<MethodOptions, 'values'>): number | null {
  const mb = optionValue(options.values, RING_MB);
  return mb === null ? null : Math.round(mb * 2 ** 20);
}

const PAGE = 4096;
/** Largest block drain chooses on its own; --block-kb may ask for more. */
const MAX_BLOCK_BYTES = 2 ** 20;
/** Largest block the kernel takes: tp_block_size must be a positive int (above 4 MiB it is vmalloc'd). */
const KERNEL_MAX_BLOCK_BYTES = 2 ** 30;
/** Largest ring drain mode builds on its own (the addon's limit is 2 GiB). */
const MAX_RING_BYTES = 2 ** 30;

const MAX_BLOCKS = 65535;
/**
 * Drain: a block is retired this long after it was opened even if not full. Long, so that
 * blocks are closed by filling up, not half-empty, while the generator is still sending.
 */
const DRAIN_RETIRE_MS = 100;
/**
 * Live: short, because a part-filled block is invisible to the reader until it is retired.
 * At low rates it bounds how long a frame waits (and how long the tail takes after the
 * generator stops), and when the timer rather than size retires blocks, the ring holds
 * blocks × R ms of traffic: 256 blocks × 4 ms ≈ 1 s. At high rates 64 KiB blocks fill in
 * about a millisecond, before the timer matters. 4 ms is also one jiffy at HZ=250, where a
 * timer-driven retire cannot be finer.
 */
const LIVE_RETIRE_MS = 4;
/** Live blocks: small, so the ring has many of them and a timer-retired block wastes little. */
const LIVE_BLOCK_BYTES = 64 * 1024;
/** Flat out (--rate max) is assumed to offer at least this much, for block size and retire slack. */
const MIN_ASSUMED_PPS = 100_000;
/**
 * Where the ring stays within SLOW_SENDER_RING_BYTES, the blocks the retire timer closes part-full
 * are counted as if flat out offered only this much: a slow sender (an emulated machine, a small
 * one) fills for longer, the timer closes more blocks, and a ring counted at MIN_ASSUMED_PPS
 * overflows. It costs ring memory, not speed: the blocks' size, which decides what delivery and
 * reading cost, is the same. Larger drains are counted at MIN_ASSUMED_PPS, as --count's limit is.
 */
const SLOWEST_ASSUMED_PPS = 10_000;
const SLOW_SENDER_RING_BYTES = 256 * 2 ** 20;

/**
 * --block-kb: the ring's block size, in both modes. The layout changes what a drain's delivery
 * costs (bench/README.md, "deliver and the ring's layout"); the default is the sizing below.
 */
const BLOCK_KB: MethodOption<number | null> = {
  name: 'block-kb',
  arg: '<kib>',
  help:
    `packet-mmap: ring block size in KiB, a power of two (default: drain about what the offered ` +
    `rate brings in ${DRAIN_RETIRE_MS} ms, at most ${MAX_BLOCK_BYTES / 1024}; live ${LIVE_BLOCK_BYTES / 1024})`,
  default: null,
  parse: parseBlockKb,
};

/** --block-kb's value: a power of two of at least a page and at most what the kernel takes. */
export function parseBlockKb(value: string): number {
  const kib = positiveInt('--block-kb', value);
  const [min, max] = [PAGE / 1024, KERNEL_MAX_BLOCK_BYTES / 1024];
  if (kib < min || kib > max || !Number.isInteger(Math.log2(kib)))
    throw new UsageError(`--block-kb must be a power of two from ${min} to ${max}, got '${value}'`);
  return kib;
}

/** The block --block-kb asks for, in bytes, refused if it holds no frame; null: the method sizes it. */
function chosenBlockBytes(
  options: Pick<MethodOptions, 'values'>,
  frameBytes: number,
): number | null {
  const kib = optionValue(options.values, BLOCK_KB);
  if (kib === null) return null;
  const bytes = kib * 1024;
  if (framesPerBlock(bytes, frameBytes) < 1)
    throw new UsageError(
      `--block-kb ${kib} holds no frame of ${frameBytes} bytes: give --block-kb ${minBlockBytes(frameBytes) / 1024} or more`,
    );
  return bytes;
}

const pow2ceil = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const pow2floor = (n: number): number => 2 ** Math.floor(Math.log2(Math.max(1, n)));

interface Layout {
  blockBytes: number;
  blockCount: number;
}

/** Smallest block that is a page multiple and holds one frame of this size. */
function minBlockBytes(frameBytes: number): number {
  return Math.max(PAGE, pow2ceil(BLOCK_HEADER + 1 + ringFrameBytes(frameBytes)));
}

function clampBlock(bytes: number, frameBytes: number): number {
  return Math.max(minBlockBytes(frameBytes), Math.min(MAX_BLOCK_BYTES, pow2ceil(bytes)));
}

function offeredPps(options: MethodOptions, flatOut = MIN_ASSUMED_PPS): number {
  return options.ratePps > 0 ? options.ratePps : flatOut;
}

/**
 * Drain blocks: about what arrives in one retire timeout at the offered rate, at most 1 MiB, so
 * a block the timer closes part-full wastes little when the rate is low.
 */
function drainBlockBytes(frameBytes: number, options: MethodOptions): number {
  const perRetire = (offeredPps(options) * DRAIN_RETIRE_MS) / 1000;
  return clampBlock(perRetire * ringFrameBytes(frameBytes) + BLOCK_HEADER, frameBytes);
}

/**
 * Blocks needed to hold `frames` unread: the blocks the frames fill, plus one block per retire
 * timeout while they arrive (a block retires at least every R ms, possibly part-full), plus 2
 * (the block open when sending starts and the one the last frames land in).
 */
function drainBlocksNeeded(
  frames: number,
  blockBytes: number,
  frameBytes: number,
  options: MethodOptions,
  flatOut = MIN_ASSUMED_PPS,
): number {
  const fillMs = (frames / offeredPps(options, flatOut)) * 1000;
  return (
    Math.ceil(frames / framesPerBlock(blockBytes, frameBytes)) +
    Math.ceil(fillMs / DRAIN_RETIRE_MS) +
    2
  );
}

/**
 * A ring of a given size (--ring-mb, or live's default) cut into blocks: of --block-kb's size when
 * given (refused if the ring cannot hold one), else the preferred size, made smaller where that
 * leaves fewer than 16 of them.
 */
function fixedRingLayout(
  ringBytes: number,
  preferredBlock: number,
  frameBytes: number,
  options: Pick<MethodOptions, 'values'>,
): Layout {
  const chosen = chosenBlockBytes(options, frameBytes);
  if (chosen !== null && chosen > ringBytes)
    throw new UsageError(
      `--block-kb ${chosen / 1024} is larger than the ${ringBytes / 2 ** 20} MiB ring: give a smaller --block-kb or a larger --ring-mb`,
    );
  const blockBytes =
    chosen ??
    Math.max(minBlockBytes(frameBytes), Math.min(preferredBlock, pow2floor(ringBytes / 16)));
  return { blockBytes, blockCount: Math.min(MAX_BLOCKS, Math.floor(ringBytes / blockBytes)) };
}

/** Largest count whose drain needs fit in blockCount blocks of blockBytes (0 if none). */
function largestFitting(layout: Layout, frameBytes: number, options: MethodOptions): number {
  const fits = (n: number): boolean =>
    drainBlocksNeeded(n, layout.blockBytes, frameBytes, options) <= layout.blockCount;
  let lo = 0;
  let hi = layout.blockCount * framesPerBlock(layout.blockBytes, frameBytes);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function drainLayout(frames: number, frameBytes: number, options: MethodOptions): Layout {
  const ringBytes = ringBytesOf(options);
  if (ringBytes !== null)
    return fixedRingLayout(ringBytes, drainBlockBytes(frameBytes, options), frameBytes, options);
  // Few frames: a block no bigger than they need, unless --block-kb says otherwise.
  const small = clampBlock(frames * ringFrameBytes(frameBytes) + BLOCK_HEADER + 1, frameBytes);
  const blockBytes =
    chosenBlockBytes(options, frameBytes) ?? Math.min(drainBlockBytes(frameBytes, options), small);
  const slow = drainBlocksNeeded(frames, blockBytes, frameBytes, options, SLOWEST_ASSUMED_PPS);
  const blockCount =
    slow * blockBytes <= SLOW_SENDER_RING_BYTES
      ? slow
      : drainBlocksNeeded(frames, blockBytes, frameBytes, options);
  return { blockBytes, blockCount };
}

export function liveLayout(frameBytes: number, options: MethodOptions): Layout {
  const ringBytes = ringBytesOf(options) ?? LIVE_BUFFER_BYTES;
  return fixedRingLayout(ringBytes, clampBlock(LIVE_BLOCK_BYTES, frameBytes), frameBytes, options);
}

// ---- the session ----------------------------------------------------------------------------

class PacketMmapSession extends SteppedSession {
  readonly settleMs: number;
  private readonly ring: PacketMmapRing;
  protected readonly step: Step;

  constructor(ctx: OpenContext) {
    super();
    const drain = ctx.mode === 'drain';
    const layout = drain
      ? drainLayout(ctx.holdFrames, ctx.maxFrameBytes, ctx)
      : liveLayout(ctx.maxFrameBytes, ctx);
    if (
      layout.blockCount < 1 ||
      layout.blockCount > MAX_BLOCKS ||
      layout.blockBytes * layout.blockCount > 2 ** 31
    ) {
      throw new SystemError(
        `packet-mmap on ${ctx.ifname}: no ring layout for ${ctx.holdFrames} frames of ${ctx.maxFrameBytes} bytes ` +
          `(${layout.blockCount} blocks of ${layout.blockBytes} bytes)`,
      );
    }
    const retireMs = drain ? DRAIN_RETIRE_MS : LIVE_RETIRE_MS;
    try {
      this.ring = new (native().PacketMmapRing)({
        ifname: ctx.ifname,
        ...layout,
        retireMs,
        fanout: fanoutJoin(ctx),
      });
    } catch (err) {
      throw fromNative(err, `open PACKET_RX_RING on ${ctx.ifname}`);
    }
    // The runner waits this long after the last frame is accounted: the last block retires by then.
    this.settleMs = retireMs + 50;
    const ring = this.ring;
    this.step =
      ctx.tier === 'native'
        ? this.nativeStep((max, slice, idle) => ring.consumeNative(max, slice, idle))
        : this.jsStep(new Tpacket3Blocks(ring.ring, layout.blockBytes, ctx.ifname), ctx.latency);
  }

  /** One retired block per step, walked and counted in place in the shared ring: no copy. */
  private jsStep(blocks: Tpacket3Blocks, latency: LatencySampler | null): Step {
    return (_max, waitMs) => {
      const at = this.ring.nextBlock(waitMs);
      if (at < 0) return 0;
      blocks.count(at, latency);
      this.received += blocks.frames;
      this.ipv4 += blocks.ipv4;
      return blocks.frames;
    };
  }

  get fanoutGroup(): number {
    return this.ring.fanoutGroup;
  }

  stats(): SessionStats {
    const s = this.ring.stats();
    return { seen: s.packets, drops: s.drops, calls: s.calls, wakeups: s.wakeups };
  }

  close(): void {
    this.ring.close();
  }
}

export const packetMmap = {
  ...readerThreads('packet-mmap', (c) => new PacketMmapSession(c)),
  summary:
    'PACKET_RX_RING with TPACKET_V3: retired blocks of the mapped ring read in place, no copy',
  tiers: ['js', 'native'],
  options: [RING_MB, BLOCK_KB],
  // AF_PACKET rings exist on every Linux kernel capbench runs on.
  probe: () => ({ available: true }),
  maxHoldFrames(frameBytes, options) {
    const ringBytes = ringBytesOf(options);
    if (ringBytes !== null) {
      return largestFitting(
        fixedRingLayout(ringBytes, drainBlockBytes(frameBytes, options), frameBytes, options),
        frameBytes,
        options,
      );
    }
    const blockBytes =
      chosenBlockBytes(options, frameBytes) ?? drainBlockBytes(frameBytes, options);
    return largestFitting(
      { blockBytes, blockCount: Math.min(MAX_BLOCKS, Math.floor(MAX_RING_BYTES / blockBytes)) },
      frameBytes,
      options,
    );
  },
  spread: fanoutSpread,
} satisfies CaptureMethod;
