/**
 * How much kernel buffer it takes to hold N frames unread, per mechanism. Drain mode sizes
 * buffers with these and refuses a --count that cannot fit, naming the largest that can.
 */

/** The kernel doubles SO_RCVBUF(FORCE) values and caps them at INT_MAX. */
export const MAX_SOCKET_BUFFER = 2 ** 30 - 1;
/** Largest ring we ask libpcap for. */
export const MAX_PCAP_BUFFER = 2 ** 30;

/**
 * Socket receive-queue charge per frame (skb truesize): the sk_buff itself plus a kmalloc'd data
 * area of frame + headroom + skb_shared_info, rounded up to a power of two. Over-estimated on
 * purpose: a drain that drops has failed.
 */
export function socketBytesPerFrame(frameBytes: number): number {
  let data = 512;
  while (data < frameBytes + 64 + 320) data *= 2;
  return 512 + data;
}

/** TPACKET_V3 ring bytes per frame: header + sockaddr_ll + frame, 16-aligned, packed into 4 KiB blocks. */
export function ringBytesPerFrame(frameBytes: number, blockBytes = 4096): number {
  const slot = Math.ceil((frameBytes + 96) / 16) * 16;
  const perBlock = Math.max(1, Math.floor((blockBytes - 48) / slot));
  return Math.ceil(blockBytes / perBlock);
}

export function socketBufferFor(frames: number, frameBytes: number): number {
  return Math.min(MAX_SOCKET_BUFFER, frames * socketBytesPerFrame(frameBytes) + 2 ** 20);
}
