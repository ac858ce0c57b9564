/**
 * Reads a retired TPACKET_V3 block where the kernel wrote it. The block already carries a table
 * of its frames: the kernel puts a struct tpacket3_hdr in front of each one (where the frame
 * starts, how long it is, where the next header is), so the js tier walks those headers instead
 * of having the addon copy them into a second table first. That extra pass over every header
 * held the js tier far below its native tier (measured: bench/README.md, "The ring methods'
 * goals", "packet-mmap: JS walks the block's own headers").
 *
 * The addon has taken the block (an acquire load of its status) before JS reads any of it, and
 * gives it back (a release store) only on the next call, so plain reads are safe here.
 * Layouts from linux/if_packet.h; offsets in bytes.
 */
import { doSomething } from '../core/counter.js';
import { SystemError } from '../shared/errors.js';
import type { LatencySampler } from '../core/latency.js';

/** struct tpacket_block_desc: version, offset_to_priv, then struct tpacket_hdr_v1. */
const BLOCK_NUM_PKTS = 12;
const BLOCK_FIRST_PKT = 16;
/** struct tpacket3_hdr. */
const HDR_NEXT_OFFSET = 0;
const HDR_SNAPLEN = 12;
const HDR_STATUS = 20;
const HDR_MAC = 24;
/** The kernel moved an 802.1Q tag into the header: on the wire, bytes 12-13 held its TPID. */
const TP_STATUS_VLAN_VALID = 1 << 4;

export class Tpacket3Blocks {
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  /** Frames and IPv4 frames of the last block counted. */
  frames = 0;
  ipv4 = 0;

  constructor(
    ring: ArrayBuffer,
    private readonly blockBytes: number,
    private readonly ifname: string,
  ) {
    this.u8 = new Uint8Array(ring);
    this.u16 = new Uint16Array(ring);
    this.u32 = new Uint32Array(ring);
  }

  /**
   * Runs doSomething over every frame of the block at `blockOff`. A frame whose VLAN tag the
   * kernel stripped had the tag's TPID at bytes 12-13 on the wire, never IPv4: it is received but
   * not counted (as the native tier does). Offers the block's last frame to `latency`.
   */
  count(blockOff: number, latency: LatencySampler | null): void {
    const { u8, u16, u32 } = this;
    const frames = u32[(blockOff + BLOCK_NUM_PKTS) >>> 2]!;
    let hdr = blockOff + u32[(blockOff + BLOCK_FIRST_PKT) >>> 2]!;
    let ipv4 = 0;
    let last = hdr;
    // Headers are 8-aligned (V3_ALIGNMENT), so the word views index them exactly.
    for (let i = 0; i < frames; i++) {
      last = hdr;
      const word = hdr >>> 2;
      if ((u32[word + HDR_STATUS / 4]! & TP_STATUS_VLAN_VALID) === 0) {
        ipv4 += doSomething(u8, hdr + u16[(hdr + HDR_MAC) >>> 1]!, u32[word + HDR_SNAPLEN / 4]!);
      }
      hdr += u32[word + HDR_NEXT_OFFSET / 4]!;
    }
    this.frames = frames;
    this.ipv4 = ipv4;
    if (frames === 0) return;
    // Reads past the ring give undefined and the sums NaN: one check per block catches a walk
    // that left its block, without a bounds check per frame.
    const lastStart = last + u16[(last + HDR_MAC) >>> 1]!;
    const lastLength = u32[(last + HDR_SNAPLEN) >>> 2]!;
    if (!(last >= blockOff && lastStart + lastLength <= blockOff + this.blockBytes)) {
      throw new SystemError(
        `PACKET_RX_RING on ${this.ifname}: the frames of the block at byte ${blockOff} run outside it`,
      );
    }
    latency?.offer(u8, lastStart, lastLength);
  }
}
