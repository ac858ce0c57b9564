/**
 * doSomething: the per-packet work every method does, so that no method looks free by never
 * touching packet memory. A frame counts when bytes 12-13 (the Ethernet type of an untagged
 * frame) are 0x08 0x00. A VLAN-tagged IPv4 frame has 0x81 0x00 there and must not count.
 * The C twin is in src/native/common/counter.h; test/unit/counter.test.ts proves they agree.
 */
export function doSomething(buf: Uint8Array, offset: number, length: number): number {
  if (length < 14) return 0;
  return buf[offset + 12] === 0x08 && buf[offset + 13] === 0x00 ? 1 : 0;
}

/** Runs doSomething over a table of (offset, length) pairs, as batched methods hand them over. */
export function countTable(buf: Uint8Array, table: Uint32Array, frames: number): number {
  let ipv4 = 0;
  for (let i = 0; i < frames; i++) {
    ipv4 += doSomething(buf, table[2 * i]!, table[2 * i + 1]!);
  }
  return ipv4;
}
