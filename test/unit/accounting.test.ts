import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTrial, cyclesPerPacket, rowCycles } from '../../src/core/accounting.js';
import type { TrialResult } from '../../src/core/results.js';

function trial(over: Partial<TrialResult>): TrialResult {
  return {
    sent: 1000, received: 1000, drops: { senderIf: 0, captureIf: 0, method: 0 }, resent: 0, latency: null, ipv4Counted: 500,
    windowSec: 0.01, pps: 100000, cyclesPerPacket: { thread: 2, user: 1, sys: 1, system: 1, source: 'tsc' }, ...over,
  };
}

test('drain: exact counts pass', () => {
  assert.deepEqual(checkTrial(trial({}), 'drain', 500, false), { ok: true, reason: null });
});

test('drain: a kernel-reported drop fails the row even though the accounting closes', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 10 }, ipv4Counted: 495 }), 'drain', 500, false);
  assert.equal(v.ok, false);
  assert.match(v.reason!, /drain lost 10 of 1000/);
});

test('live: drops are allowed when sent == received + dropped', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 2, captureIf: 0, method: 8 }, ipv4Counted: 495 }), 'live', 500, false);
  assert.equal(v.ok, true);
});

test('live: frames that are neither received nor dropped fail the accounting', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 4 }, ipv4Counted: 495 }), 'live', 500, false);
  assert.match(v.reason!, /6 unaccounted/);
});

test('an IPv4 count off by one fails, with what the fixture says', () => {
  const v = checkTrial(trial({ ipv4Counted: 501 }), 'drain', 500, false);
  assert.match(v.reason!, /counted 501 IPv4 frames, the fixture says 500/);
});

test('more received than sent means the interface is not quiet', () => {
  assert.match(checkTrial(trial({ received: 1002 }), 'live', 500, false).reason!, /not quiet/);
});

test('cycles per packet: CPU seconds × TSC Hz ÷ packets, system minus the baseline rate', () => {
  const c = cyclesPerPacket({ cpu: { threadSec: 0.75, threadUserSec: 0.5, threadSysSec: 0.25, systemBusySec: 1.5 }, windowSec: 1, packets: 1e6, sent: null }, 2e9, { busyPerSec: 1, busyPerSentFrame: null }, 'tsc');
  assert.deepEqual(c, { thread: 1500, user: 1000, sys: 500, system: 1000, source: 'tsc' });
});

test('cycles per packet: the exact thread total is split in getrusage\'s proportions', () => {
  // getrusage lags (tick-sampled): 10 ms seen, 3:1, while the exact total is 20 ms.
  const c = cyclesPerPacket({ cpu: { threadSec: 0.02, threadUserSec: 0.0075, threadSysSec: 0.0025, systemBusySec: 0 }, windowSec: 1, packets: 1e4, sent: null }, 1e9, null, 'tsc');
  assert.equal(Math.round(c.thread!), 2000);
  assert.equal(Math.round(c.user!), 1500);
  assert.equal(Math.round(c.sys!), 500);
});

test('cycles per packet: a window getrusage did not see has a thread figure but no split', () => {
  const c = cyclesPerPacket({ cpu: { threadSec: 0.001, threadUserSec: 0, threadSysSec: 0, systemBusySec: 0 }, windowSec: 0.001, packets: 1e3, sent: null }, 1e9, null, 'tsc');
  assert.equal(c.thread, 1000);
  assert.equal(c.user, null);
});

test('row cycles: the system figure is withheld when the windows are too short for /proc/stat ticks', () => {
  const cpu = { threadSec: 0.01, threadUserSec: 0.01, threadSysSec: 0, systemBusySec: 0.02 };
  const short = rowCycles([{ cpu, windowSec: 0.1, packets: 1000, sent: null }], 2, 1e9, { busyPerSec: 0, busyPerSentFrame: null }, 'tsc');
  assert.equal(short.system, null);
  const long = rowCycles([{ cpu, windowSec: 1, packets: 1000, sent: null }], 2, 1e9, { busyPerSec: 0, busyPerSentFrame: null }, 'tsc');
  assert.equal(long.system, 20000);
});

test('cycles per packet: nothing received means no figure, not infinity', () => {
  const c = cyclesPerPacket({ cpu: { threadSec: 2, threadUserSec: 1, threadSysSec: 1, systemBusySec: 1 }, windowSec: 1, packets: 0, sent: null }, 2e9, null, 'tsc');
  assert.equal(c.thread, null);
});

test('live cycles: the baseline is charged per frame sent, so a slowed sender still shows its cost', () => {
  // The baseline spent 1 CPU-second per 1M frames sent. This row's generator managed 500k frames
  // (capturing slowed it) in the same second while the machine was 1.5 s busy: 1 s is over the
  // baseline's 0.5 s for those frames, per 500k packets at 1 GHz.
  const cpu = { threadSec: 0.25, threadUserSec: 0.25, threadSysSec: 0, systemBusySec: 1.5 };
  const c = cyclesPerPacket({ cpu, windowSec: 1, packets: 5e5, sent: 5e5 }, 1e9, { busyPerSec: 1, busyPerSentFrame: 1e-6 }, 'tsc');
  assert.equal(Math.round(c.system!), 2000);
});
