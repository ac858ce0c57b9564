import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureBaseline, measureWindow, type WindowSpec } from '../../src/core/window.js';
import { InterruptedError } from '../../src/shared/errors.js';
import { fixturePath, loadFixture } from '../../src/net/fixture.js';
import { FakeMachine, fakeMethod, port, TESTBED } from './fake-machine.js';

const fixture = await loadFixture(fixturePath('udp64'));

function spec(
  m: FakeMachine,
  over: Partial<WindowSpec> = {},
): WindowSpec & { method: ReturnType<typeof fakeMethod> } {
  return {
    method: fakeMethod(m),
    tier: 'js',
    mode: 'drain',
    captureIf: TESTBED.captureIf,
    sender: { ifname: TESTBED.senderIf, netns: TESTBED.netns },
    traffic: {
      netnsPath: TESTBED.netnsPath,
      ifname: TESTBED.senderIf,
      fixture,
      ratePps: 0,
      cpu: 0,
    },
    twin: { senderIf: TESTBED.twinSenderIf, captureIf: TESTBED.twinCaptureIf },
    link: 'veth',
    deliveryClock: 'sender',
    fixture,
    count: 1000,
    durationSec: 0.05,
    options: {
      values: {},
      ratePps: 0,
      threads: 1,
      fanout: 'hash',
      captureCpus: [],
      testbedQueues: 1,
    },
    probeCpus: null,
    machine: m,
    tscHz: 1e9,
    cpus: 2,
    signal: new AbortController().signal,
    ...over,
  } as WindowSpec & { method: ReturnType<typeof fakeMethod> };
}

test('drain: the reader gets every frame of the fill, and the sender clocks of both arms are kept', async () => {
  const m = new FakeMachine();
  const s = spec(m);
  const w = await measureWindow(s);
  assert.deepEqual(
    [w.trial.sent, w.trial.received, w.trial.ipv4Counted, w.trial.ipv4Expected],
    [1000, 1000, 1000, 1000],
  );
  assert.deepEqual(w.trial.drops, { senderIf: 0, captureIf: 0, method: 0 });
  // 1.3 µs a frame into the captured pair, 1.0 µs into the twin that ran beside it.
  assert.ok(Math.abs(w.trial.delivery!.senderSec - 1000 * 1.3e-6) < 1e-12);
  assert.equal(w.trial.delivery!.twinSent, 7500);
  assert.ok(Math.abs(w.trial.delivery!.twinSec! - 7500 * 1e-6) < 1e-12);
  assert.equal(w.load.sent, null, 'drain: the baseline is not charged per frame sent');
  assert.equal(m.running.size, 0, 'both generators stopped');
  assert.equal(s.method.closed, 1);
});

test('drain without a twin (no test bed twin): no twin figures, nothing left running', async () => {
  const m = new FakeMachine();
  const w = await measureWindow(spec(m, { twin: null }));
  assert.equal(w.trial.delivery!.twinSec, null);
  assert.equal(m.running.size, 0);
});

test('live: the frames sent in the window, charged per frame sent, no twin', async () => {
  const m = new FakeMachine();
  const w = await measureWindow(spec(m, { mode: 'live', twin: null }));
  assert.deepEqual([w.trial.sent, w.trial.received, w.load.sent], [5000, 5000, 5000]);
  assert.equal(w.trial.delivery!.twinSent, null);
  assert.ok(Math.abs(w.trial.delivery!.senderSec - 5000 * 1.3e-6) < 1e-12);
  assert.ok(w.trial.pps! > 0);
  assert.equal(m.running.size, 0);
});

test('live, interrupted: the window throws InterruptedError, and the generators and the session are gone', async () => {
  const m = new FakeMachine();
  const abort = new AbortController();
  const s = spec(m, { mode: 'live', twin: null, durationSec: 10, signal: abort.signal });
  setTimeout(() => abort.abort('SIGINT'), 20);
  await assert.rejects(measureWindow(s), InterruptedError);
  assert.equal(m.running.size, 0);
  assert.equal(s.method.closed, 1);
});

test('drain, interrupted before the reading: the same, with the fill stopped', async () => {
  const m = new FakeMachine();
  const abort = new AbortController();
  abort.abort('SIGINT');
  const s = spec(m, { signal: abort.signal });
  await assert.rejects(measureWindow(s), InterruptedError);
  assert.equal(m.running.size, 0);
  assert.equal(s.method.closed, 1);
});

test('a session that cannot open leaves nothing started', async () => {
  const m = new FakeMachine();
  const s = spec(m, { method: fakeMethod(m, 'socket', { failOpen: new Error('no socket') }) });
  await assert.rejects(measureWindow(s), /no socket/);
  assert.equal(m.running.size, 0);
});

/** Two ports: eth2 sends in our namespace, eth1 captures; the machine's clocks read the delivery. */
function twoPort(
  m: FakeMachine,
  over: Partial<WindowSpec> = {},
): WindowSpec & { method: ReturnType<typeof fakeMethod> } {
  m.cable(port('eth1'), port('eth2'));
  return spec(m, {
    captureIf: 'eth1',
    sender: { ifname: 'eth2', netns: null },
    traffic: { netnsPath: null, ifname: 'eth2', fixture, ratePps: 0, cpu: 0 },
    twin: null,
    link: 'wire',
    deliveryClock: 'system',
    ...over,
  });
}

test("two-port drain: the machine's clocks over the fill are kept, no twin ran", async () => {
  const m = new FakeMachine();
  const w = await measureWindow(twoPort(m));
  assert.deepEqual([w.trial.sent, w.trial.received, w.trial.resent], [1000, 1000, 0]);
  const system = w.trial.delivery!.system!;
  // 1.3 µs a frame with the session attached, and the reader's 10 ns at each end of the fill.
  assert.ok(Math.abs(system.busySec - (1000 * 1.3e-6 + 10e-9)) < 1e-12, String(system.busySec));
  assert.ok(Math.abs(system.readerSec - 10e-9) < 1e-15);
  assert.equal(w.trial.delivery!.twinSent, null);
  assert.deepEqual(
    m.started.map((t) => [t.ifname, t.netnsPath]),
    [['eth2', null]],
  );
});

test('two-port drain, baseline: it has no count of its own, so the fill lasts until the capture port has the frames', async () => {
  const m = new FakeMachine();
  const w = await measureBaseline(twoPort(m));
  assert.deepEqual([w.trial.sent, w.trial.received], [1000, 1000]);
  assert.ok(w.trial.delivery!.system!.busySec > 0);
});

test("two-port live: the machine's clocks over the whole window", async () => {
  const m = new FakeMachine();
  const w = await measureWindow(twoPort(m, { mode: 'live' }));
  assert.equal(w.trial.sent, 5000);
  assert.ok(Math.abs(w.trial.delivery!.system!.busySec - (5000 * 1.3e-6 + 10e-9)) < 1e-12);
  assert.ok(w.trial.delivery!.system!.wallSec >= 1);
});
