import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MethodOptions } from '../../src/core/method.js';
import { UsageError } from '../../src/shared/errors.js';
import {
  drainLayout,
  framesPerBlock,
  liveLayout,
  packetMmap,
  parseBlockKb,
} from '../../src/methods/packet-mmap.js';

const flatOut = (values: MethodOptions['values'] = {}): MethodOptions => ({
  values,
  ratePps: 0,
  threads: 1,
  fanout: 'hash',
  captureCpus: [],
  testbedQueues: 1,
});

const usage = (flag: RegExp) => (err: unknown) =>
  err instanceof UsageError && flag.test(err.message);

test('--block-kb is packet-mmap option, null by default (the method sizes its blocks)', () => {
  const o = packetMmap.options.find((x) => x.name === 'block-kb');
  assert.ok(o);
  assert.equal(o.default, null);
  assert.equal(o.arg, '<kib>');
  assert.match(o.help, /^packet-mmap: .*drain .*100 ms, at most 1024; live 64/);
});

test('--block-kb takes a power of two from a page (4 KiB) to the 1 GiB the kernel takes', () => {
  for (const kib of [4, 64, 1024, 4096, 2 ** 20]) assert.equal(parseBlockKb(String(kib)), kib);
  for (const bad of ['0', '2', '3', '96', '1000', String(2 ** 21), 'big', '-64', '1.5'])
    assert.throws(() => parseBlockKb(bad), usage(/^--block-kb must be/), bad);
  assert.throws(() => parseBlockKb('96'), /power of two from 4 to 1048576, got '96'/);
});

test('drain with --block-kb: blocks of that size, counted as without it', () => {
  // 64 KiB blocks hold 454 frames of 60 bytes; a 10 kpps sender lets the 100 ms timer close 100
  // blocks over 100,000 frames; 323 blocks of 64 KiB fit in 256 MiB, so that count is kept.
  const small = drainLayout(100_000, 60, flatOut({ 'block-kb': 64 }));
  assert.equal(small.blockBytes, 64 * 1024);
  assert.equal(framesPerBlock(64 * 1024, 60), 454);
  assert.equal(small.blockCount, Math.ceil(100_000 / 454) + 100 + 2);
  // 4 MiB blocks counted for a slow sender would be 424 MiB: counted at 100 kpps instead.
  const big = drainLayout(100_000, 60, flatOut({ 'block-kb': 4096 }));
  assert.equal(big.blockBytes, 4 * 2 ** 20);
  assert.equal(big.blockCount, Math.ceil(100_000 / framesPerBlock(4 * 2 ** 20, 60)) + 10 + 2);
  // Few frames: the block asked for, not one shrunk to them.
  assert.equal(drainLayout(100, 60, flatOut({ 'block-kb': 1024 })).blockBytes, 2 ** 20);
});

test('without --block-kb the layouts are as before', () => {
  assert.deepEqual(
    drainLayout(100_000, 60, flatOut()),
    drainLayout(100_000, 60, flatOut({ 'block-kb': null })),
  );
  assert.equal(drainLayout(100_000, 60, flatOut()).blockBytes, 2 ** 20);
  assert.equal(drainLayout(100, 60, flatOut()).blockBytes, 16 * 1024);
  assert.deepEqual(liveLayout(60, flatOut()), { blockBytes: 64 * 1024, blockCount: 256 });
});

test('live and --ring-mb with --block-kb: the ring cut into blocks of that size, even fewer than 16', () => {
  assert.deepEqual(liveLayout(60, flatOut({ 'block-kb': 1024 })), {
    blockBytes: 2 ** 20,
    blockCount: 16,
  });
  assert.deepEqual(liveLayout(60, flatOut({ 'block-kb': 4096 })), {
    blockBytes: 4 * 2 ** 20,
    blockCount: 4,
  });
  assert.deepEqual(drainLayout(100_000, 60, flatOut({ 'ring-mb': 64, 'block-kb': 8192 })), {
    blockBytes: 8 * 2 ** 20,
    blockCount: 8,
  });
});

test('--block-kb larger than the ring, or too small for a frame, is refused naming the flag', () => {
  assert.throws(
    () => liveLayout(60, flatOut({ 'block-kb': 32768 })),
    usage(/^--block-kb 32768 is larger than the 16 MiB ring/),
  );
  assert.throws(
    () => drainLayout(1000, 60, flatOut({ 'ring-mb': 1, 'block-kb': 2048 })),
    usage(/--block-kb 2048 is larger than the 1 MiB ring/),
  );
  // A 9000-byte frame takes 9088 bytes of a block: 4 and 8 KiB hold none.
  for (const kib of [4, 8])
    assert.throws(
      () => drainLayout(1000, 9000, flatOut({ 'block-kb': kib })),
      usage(
        new RegExp(`^--block-kb ${kib} holds no frame of 9000 bytes: give --block-kb 16 or more`),
      ),
    );
  assert.throws(
    () => packetMmap.maxHoldFrames(9000, flatOut({ 'block-kb': 8 })),
    usage(/holds no frame/),
  );
  assert.equal(drainLayout(1000, 9000, flatOut({ 'block-kb': 16 })).blockBytes, 16 * 1024);
});

test('--count limit with --block-kb: what the ring of that block size holds', () => {
  const options = flatOut({ 'block-kb': 4096 });
  // 256 blocks of 4 MiB in 1 GiB; the retire timer's part-full blocks (one per 100 ms at 100 kpps)
  // take most of them.
  const max = packetMmap.maxHoldFrames(60, options);
  assert.ok(max !== null && max > 1_800_000 && max < 1_900_000, String(max));
  // A drain of that many fits in a ring the addon takes; one more needs more blocks than allowed.
  const layout = drainLayout(max, 60, options);
  assert.ok(layout.blockBytes * layout.blockCount <= 2 ** 30);
  const over = drainLayout(max + 1, 60, options);
  assert.ok(over.blockBytes * over.blockCount > 2 ** 30);
});
