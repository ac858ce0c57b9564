import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchmark } from '../../src/core/runner.js';
import type { CaptureMethodName } from '../../src/core/config.js';
import type { CaptureMethod } from '../../src/core/method.js';
import { UsageError } from '../../src/shared/errors.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { FakeMachine, fakeMethod } from './fake-machine.js';

function deps(m: FakeMachine, ...list: CaptureMethod[]) {
  return {
    methods: new Map<CaptureMethodName, CaptureMethod>(list.map((x) => [x.name, x])),
    machine: m,
    signal: new AbortController().signal,
  };
}

test('the default count: a method that holds fewer frames drains the most it holds, and its row says so', async () => {
  const m = new FakeMachine();
  const small = fakeMethod(m, 'fastnet-zc', { maxHold: 600 });
  const results = await runBenchmark(
    runConfig({ methods: 'socket,fastnet-zc', trials: '2' }),
    deps(m, fakeMethod(m), small),
  );
  const [socket, zc] = results.rows;
  assert.equal(socket!.sent, 2 * 100_000);
  assert.equal(socket!.reason, null);
  assert.equal(zc!.ok, true, zc!.reason ?? '');
  assert.equal(zc!.sent, 2 * 600);
  assert.equal(zc!.received, 2 * 600);
  assert.match(
    zc!.reason!,
    /^drained 600 frames per trial, not the default 100000: fastnet-zc's kernel buffer holds at most 600 frames of 60 bytes$/,
  );
  assert.ok(small.opened.every((ctx) => ctx.holdFrames === 600));
});

test('a --count the user gave that a method cannot hold refuses the run with one line naming the most that fits', async () => {
  const m = new FakeMachine();
  const run = runBenchmark(
    runConfig({ methods: 'socket,fastnet-zc', count: '1000' }),
    deps(m, fakeMethod(m), fakeMethod(m, 'fastnet-zc', { maxHold: 600 })),
  );
  await assert.rejects(run, (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.equal(
      err.message,
      "--count 1000 does not fit in fastnet-zc's kernel buffer: at most 600 frames of 60 bytes (give --count 600 or less)",
    );
    return true;
  });
  // Refused before any window ran; the test bed it was checked on is gone.
  assert.equal(m.calls.at(-1), 'destroyTestbed');
  assert.equal(m.running.size, 0);
});

test('capacity is asked only of methods that will run, on the interface the run captures on', async () => {
  const m = new FakeMachine();
  const zc = fakeMethod(m, 'fastnet-zc', {
    maxHold: 600,
    probe: (ifname) =>
      ifname === 'fkc'
        ? { available: false, reason: 'fkc is a veth: two-port mode only' }
        : { available: true },
  });
  const results = await runBenchmark(
    runConfig({ methods: 'socket,fastnet-zc', count: '1000', trials: '1' }),
    deps(m, fakeMethod(m), zc),
  );
  assert.equal(zc.holdAsked, 0);
  assert.ok(zc.probed.includes('fkc'), `probed with ${zc.probed.join(', ')}`);
  assert.deepEqual(
    results.rows.map((r) => [r.method, r.available, r.reason]),
    [
      ['socket', true, null],
      ['fastnet-zc', false, 'fkc is a veth: two-port mode only'],
    ],
  );
});

test('live mode asks no method what it holds', async () => {
  const m = new FakeMachine();
  const zc = fakeMethod(m, 'fastnet-zc', { maxHold: 1 });
  const results = await runBenchmark(
    runConfig({ methods: 'fastnet-zc', mode: 'live', duration: '0.05', trials: '1' }),
    deps(m, zc),
  );
  assert.equal(zc.holdAsked, 0);
  assert.equal(results.rows[0]!.ok, true, results.rows[0]!.reason ?? '');
});
