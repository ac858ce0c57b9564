import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SystemError } from '../../src/shared/errors.js';
import { Tpacket3Blocks } from '../../src/methods/tpacket3-block.js';

const BLOCK = 4096;
/** Where tpacket_rcv puts an Ethernet frame after its tpacket3_hdr and sockaddr_ll (no reserve). */
const MAC = 82;

interface Frame {
  etherType: number;
  length: number;
  vlanStripped?: boolean;
}

/** A ring of three blocks whose second one is laid out as the kernel lays out a TPACKET_V3 block. */
function ringWith(frames: Frame[]): { ring: ArrayBuffer; blockOff: number; view: DataView } {
  const ring = new ArrayBuffer(3 * BLOCK);
  const view = new DataView(ring);
  const blockOff = BLOCK;
  const first = 48;
  view.setUint32(blockOff + 12, frames.length, true);
  view.setUint32(blockOff + 16, first, true);
  let hdr = blockOff + first;
  frames.forEach((f, i) => {
    const next = Math.ceil((MAC + f.length) / 8) * 8;
    view.setUint32(hdr, i === frames.length - 1 ? 0 : next, true);
    view.setUint32(hdr + 12, f.length, true);
    view.setUint32(hdr + 20, f.vlanStripped ? 1 << 4 : 0, true);
    view.setUint16(hdr + 24, MAC, true);
    view.setUint16(hdr + MAC + 12, f.etherType, false);
    hdr += next;
  });
  return { ring, blockOff, view };
}

test('a block is walked through its own frame headers: IPv4 counts, everything else is received only', () => {
  const { ring, blockOff } = ringWith([
    { etherType: 0x0800, length: 60 },
    { etherType: 0x86dd, length: 90 },
    { etherType: 0x0800, length: 1514 },
    { etherType: 0x0806, length: 42 },
    { etherType: 0x0800, length: 60 },
  ]);
  const blocks = new Tpacket3Blocks(ring, BLOCK, 'test0');
  blocks.count(blockOff, null);
  assert.equal(blocks.frames, 5);
  assert.equal(blocks.ipv4, 3);
});

test('a frame whose VLAN tag the kernel stripped does not count, though bytes 12-13 now say IPv4', () => {
  const { ring, blockOff } = ringWith([
    { etherType: 0x0800, length: 64, vlanStripped: true },
    { etherType: 0x0800, length: 60 },
  ]);
  const blocks = new Tpacket3Blocks(ring, BLOCK, 'test0');
  blocks.count(blockOff, null);
  assert.equal(blocks.frames, 2);
  assert.equal(blocks.ipv4, 1);
});

test('an empty block counts nothing', () => {
  const { ring, blockOff } = ringWith([]);
  const blocks = new Tpacket3Blocks(ring, BLOCK, 'test0');
  blocks.count(blockOff, null);
  assert.equal(blocks.frames, 0);
  assert.equal(blocks.ipv4, 0);
});

test('a header that points outside the block is an error, not a silent miscount', () => {
  const { ring, blockOff, view } = ringWith([
    { etherType: 0x0800, length: 60 },
    { etherType: 0x0800, length: 60 },
  ]);
  view.setUint32(blockOff + 48, BLOCK, true); // the first frame's next_offset jumps into the next block
  const blocks = new Tpacket3Blocks(ring, BLOCK, 'test0');
  assert.throws(
    () => blocks.count(blockOff, null),
    (err: unknown) => err instanceof SystemError && /outside/.test(err.message),
  );
});

test('a header that points past the end of the ring is an error too', () => {
  const { ring, blockOff, view } = ringWith([
    { etherType: 0x0800, length: 60 },
    { etherType: 0x0800, length: 60 },
  ]);
  view.setUint32(blockOff + 48, 10 * BLOCK, true); // past the end of the ring: reads give undefined
  const blocks = new Tpacket3Blocks(ring, BLOCK, 'test0');
  assert.throws(() => blocks.count(blockOff, null), SystemError);
});
