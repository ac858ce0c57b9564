import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drive, driveSync, type Step } from '../../src/core/consume-loop.js';
import type { ConsumeLimit } from '../../src/core/method.js';
import { InterruptedError } from '../../src/shared/errors.js';

/** A source that hands out `perStep` frames a step until `available` run out. */
function source(
  available: number,
  perStep = 64,
): { step: Step; received: () => number; asked: number[] } {
  let got = 0;
  const asked: number[] = [];
  return {
    asked,
    received: () => got,
    step: (max) => {
      asked.push(max);
      const n = Math.min(max, perStep, available - got);
      got += n;
      return n;
    },
  };
}

const limit = (over: Partial<ConsumeLimit>): ConsumeLimit => ({
  frames: Infinity,
  untilMs: Infinity,
  idleMs: Infinity,
  signal: new AbortController().signal,
  ...over,
});

test('drive stops at the frame limit, never asking a step for more than remains', async () => {
  const s = source(10_000, 64);
  await drive(limit({ frames: 1000 }), s.received, s.step);
  assert.equal(s.received(), 1000);
  assert.equal(s.asked.at(-1), 1000 - 64 * 15);
});

test('drive gives up after idleMs with nothing arriving and returns when the last frame came', async () => {
  const s = source(500);
  const before = performance.now();
  const last = await drive(limit({ frames: 1000, idleMs: 30 }), s.received, s.step);
  assert.equal(s.received(), 500);
  assert.ok(
    last >= before && last <= performance.now() - 25,
    'the time of the last frame, not of giving up',
  );
});

test('drive returns at untilMs', async () => {
  const s = source(0);
  const until = performance.now() + 25;
  const end = await drive(limit({ untilMs: until }), s.received, s.step);
  assert.ok(end >= until);
});

test('drive returns when stop() says so, between slices', async () => {
  const s = source(0);
  let calls = 0;
  await drive(limit({ stop: () => ++calls >= 2 }), s.received, s.step);
  assert.equal(calls, 2);
});

test('drive throws InterruptedError when the signal fires, with the signal named', async () => {
  const abort = new AbortController();
  const s = source(0);
  setTimeout(() => abort.abort('SIGTERM'), 10);
  await assert.rejects(
    drive(limit({ signal: abort.signal }), s.received, s.step),
    (e: unknown) => e instanceof InterruptedError && /SIGTERM/.test(String(e)),
  );
});

test('driveSync: stop is looked at after every step that read, and progress told each time', () => {
  const s = source(10_000, 10);
  let told = 0;
  driveSync(
    { frames: Infinity, idleMs: Infinity, stop: () => s.received() >= 30, onFrames: () => told++ },
    s.received,
    s.step,
  );
  assert.equal(s.received(), 30);
  assert.equal(told, 3);
});

test("driveSync: reads to its own target, and returns the last frame's time when nothing more comes", () => {
  const s = source(100, 64);
  driveSync(
    { frames: 100, idleMs: 1, stop: () => false, onFrames: () => undefined },
    s.received,
    s.step,
  );
  assert.deepEqual(s.asked, [100, 36]);
  const idle = source(0);
  const t0 = performance.now();
  const last = driveSync(
    { frames: Infinity, idleMs: 1, stop: () => false, onFrames: () => undefined },
    idle.received,
    idle.step,
  );
  assert.ok(last >= t0 && last <= performance.now());
});
