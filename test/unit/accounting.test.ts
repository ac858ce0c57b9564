import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTrial, MIN_PACKETS, windowLoss, type TrialCheck, type WindowCounts } from '../../src/core/accounting.js';
import type { TrialResult } from '../../src/core/results.js';

function trial(over: Partial<TrialResult>): TrialResult {
  return {
    sent: 1000, received: 1000, drops: { senderIf: 0, captureIf: 0, method: 0 }, resent: 0, latency: null, ipv4Counted: 500,
    ipv4Expected: 500, windowSec: 0.01, pps: 100000, delivery: null,
    cyclesPerPacket: {
      deliver: 1, read: 2, total: 3, totalRme: null, deliverSource: 'sender-clocks-vs-twin', deliverNote: null,
      user: 1, sys: 1, systemBusy: 1, source: 'tsc',
    },
    ...over,
  };
}

const drain: TrialCheck = { mode: 'drain', ipv4Expected: 500, derived: false, iface: 'cb0c' };
const live: TrialCheck = { ...drain, mode: 'live' };

test('drain: exact counts pass', () => {
  assert.deepEqual(checkTrial(trial({}), drain), { ok: true, reason: null });
});

test('drain: a kernel-reported drop fails the row even though the accounting closes', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 10 }, ipv4Counted: 495 }), drain);
  assert.equal(v.ok, false);
  assert.match(v.reason!, /drain lost 10 of 1000/);
});

test('live: drops are allowed when sent == received + dropped', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 2, captureIf: 0, method: 8 }, ipv4Counted: 495 }), live);
  assert.equal(v.ok, true);
});

test('live: frames that are neither received nor dropped fail the accounting', () => {
  const v = checkTrial(trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 4 }, ipv4Counted: 495 }), live);
  assert.match(v.reason!, /6 unaccounted/);
});

test('an IPv4 count off by one fails, with what the fixture says', () => {
  const v = checkTrial(trial({ ipv4Counted: 501 }), drain);
  assert.match(v.reason!, /counted 501 IPv4 frames, the fixture says 500/);
});

test('more received than sent means the interface is not quiet', () => {
  assert.match(checkTrial(trial({ received: 1002 }), live).reason!, /not quiet/);
});

test('traffic from elsewhere: fewer frames than the floor is a verdict of its own', () => {
  const v = checkTrial(trial({ sent: null, received: 7, ipv4Counted: 0, windowSec: 2 }), { ...live, ipv4Expected: null, iface: 'eth9' });
  assert.equal(v.ok, false);
  assert.match(v.reason!, /no traffic: 7 frames arrived on eth9 in 2\.0 s, fewer than 1000: is the generator running\?/);
});

test('traffic from elsewhere: enough frames pass with nothing to compare against', () => {
  const v = checkTrial(trial({ sent: null, received: MIN_PACKETS, ipv4Counted: 10 }), { ...live, ipv4Expected: null });
  assert.deepEqual(v, { ok: true, reason: null });
});

test('unknown drops do not make the accounting fail', () => {
  const v = checkTrial(trial({ sent: null, received: 5000, drops: { senderIf: 0, captureIf: 0, method: null } }), { ...live, ipv4Expected: null });
  assert.equal(v.ok, true);
});

const counts = (over: Partial<WindowCounts>): WindowCounts => ({
  captureRx: 1000, captureDropped: 0, senderRefused: 0, backlogDrops: 0, twinDropped: 0,
  methodDrops: 0, counted: 1000, sent: 1000, baseline: false, ...over,
});

test('loss: frames the veth refused were resent, and its backlog drops are not loss at the interface', () => {
  const l = windowLoss(counts({ senderRefused: 40, captureDropped: 40, backlogDrops: 40 }));
  assert.deepEqual(l, { received: 1000, drops: { senderIf: 0, captureIf: 0, method: 0 }, resent: 40, dropsSource: 'kernel' });
});

test("loss: the twin's backlog drops are its own, not the capture interface's", () => {
  // 30 frames of this row's and 20 of the twin's were dropped for a full backlog: only ours count.
  const l = windowLoss(counts({ captureDropped: 35, backlogDrops: 50, twinDropped: 20 }));
  assert.equal(l.drops.captureIf, 5);
});

test('loss: a method without drop counts has them derived from the sent count, or unknown without one', () => {
  assert.deepEqual(windowLoss(counts({ methodDrops: null, counted: 990 })).drops.method, 10);
  assert.equal(windowLoss(counts({ methodDrops: null, counted: 990 })).dropsSource, 'derived');
  const unknown = windowLoss(counts({ methodDrops: null, counted: 990, sent: null }));
  assert.deepEqual([unknown.drops.method, unknown.dropsSource], [null, 'unknown']);
});

test("loss: the baseline's received is what the interface delivered, less what it lost", () => {
  const l = windowLoss(counts({ baseline: true, methodDrops: null, counted: 0, captureRx: 1000, captureDropped: 3 }));
  assert.deepEqual([l.received, l.drops.captureIf, l.dropsSource], [997, 3, 'kernel']);
});
