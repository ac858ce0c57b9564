import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MethodOptions } from '../../src/core/method.js';
import { drainLayout, framesPerBlock, ringFrameBytes } from '../../src/methods/packet-mmap.js';

// From net/packet/af_packet.c (tpacket_rcv, TPACKET_V3): a frame starts at macoff =
// TPACKET_ALIGN(68 + 16) - 14 = 82 in its slot, and slots are 8-aligned.
test('a TPACKET_V3 slot is the frame after its 82-byte header, 8-aligned', () => {
  assert.equal(ringFrameBytes(60), 144);
  assert.equal(ringFrameBytes(1514), 1600);
  assert.equal(ringFrameBytes(61), 144);
  assert.equal(ringFrameBytes(63), 152);
});

test('a block holds what fits after its 48-byte descriptor, strictly before its end', () => {
  assert.equal(framesPerBlock(4096, 60), Math.floor((4096 - 48 - 1) / 144));
  // 28 slots of 144 end at 48 + 4032 = 4080 < 4096; a 29th would not fit.
  assert.equal(framesPerBlock(4096, 60), 28);
  // Exactly full is not allowed: 48 + 2 × 1600 = 3248, so a 3248-byte block holds one.
  assert.equal(framesPerBlock(3248, 1514), 1);
  assert.equal(framesPerBlock(100, 1514), 0);
});

const flatOut: MethodOptions = {
  values: {},
  ratePps: 0,
  threads: 1,
  fanout: 'hash',
  captureCpus: [],
  testbedQueues: 1,
};

test('a drain ring has room for the blocks a slow sender lets the retire timer close part-full', () => {
  // 100,000 frames from a sender at 10 kpps take 10 s: 100 blocks closed by the 100 ms timer,
  // besides the 14 full 1 MiB blocks the frames need and the two at either end.
  const layout = drainLayout(100_000, 60, flatOut);
  assert.equal(layout.blockBytes, 2 ** 20);
  assert.equal(layout.blockCount, Math.ceil(100_000 / framesPerBlock(2 ** 20, 60)) + 100 + 2);
});

test('a drain too large to count a slow sender within 256 MiB is counted at 100 kpps, and fits', () => {
  const layout = drainLayout(4_000_000, 60, flatOut);
  assert.equal(layout.blockCount, Math.ceil(4_000_000 / framesPerBlock(2 ** 20, 60)) + 400 + 2);
  assert.ok(layout.blockBytes * layout.blockCount <= 2 ** 30);
});
