import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkTrial,
  MIN_PACKETS,
  windowLoss,
  type TrialCheck,
  type WindowCounts,
} from '../../src/core/accounting.js';
import type { TrialResult } from '../../src/core/results.js';

function trial(over: Partial<TrialResult>): TrialResult {
  return {
    sent: 1000,
    received: 1000,
    drops: { senderIf: 0, captureIf: 0, method: 0 },
    resent: 0,
    latency: null,
    ipv4Counted: 500,
    ipv4Expected: 500,
    windowSec: 0.01,
    pps: 100000,
    delivery: null,
    cyclesPerPacket: {
      deliver: 1,
      read: 2,
      total: 3,
      totalRme: null,
      deliverSource: 'sender-clocks-vs-twin',
      deliverNote: null,
      user: 1,
      sys: 1,
      systemBusy: 1,
      source: 'tsc',
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
  const v = checkTrial(
    trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 10 }, ipv4Counted: 495 }),
    drain,
  );
  assert.equal(v.ok, false);
  assert.match(v.reason!, /drain lost 10 of 1000/);
});

test('live: drops are allowed when sent == received + dropped', () => {
  const v = checkTrial(
    trial({ received: 990, drops: { senderIf: 2, captureIf: 0, method: 8 }, ipv4Counted: 495 }),
    live,
  );
  assert.equal(v.ok, true);
});

test('live: frames that are neither received nor dropped fail the accounting', () => {
  const v = checkTrial(
    trial({ received: 990, drops: { senderIf: 0, captureIf: 0, method: 4 }, ipv4Counted: 495 }),
    live,
  );
  assert.match(v.reason!, /6 unaccounted/);
});

test('an IPv4 count off by one fails, with what the fixture says', () => {
  const v = checkTrial(trial({ ipv4Counted: 501 }), drain);
  assert.match(v.reason!, /counted 501 IPv4 frames, the fixture says 500/);
});

test('two-port: nothing arrived and nothing counted lost is a cabling verdict of its own', () => {
  const check: TrialCheck = { ...drain, iface: 'eth1', genIface: 'eth2' };
  const v = checkTrial(trial({ received: 0, ipv4Counted: 0 }), check);
  assert.match(
    v.reason!,
    /none of 1000 frames sent on eth2 arrived on eth1, and neither port counted a drop: are the two ports cabled to each other\?/,
  );
  // Loss the ports did count is the usual verdict.
  assert.match(
    checkTrial(
      trial({ received: 0, ipv4Counted: 0, drops: { senderIf: 0, captureIf: 1000, method: 0 } }),
      check,
    ).reason!,
    /drain lost 1000/,
  );
});

test('more received than sent means the interface is not quiet', () => {
  assert.match(checkTrial(trial({ received: 1002 }), live).reason!, /not quiet/);
});

test('traffic from elsewhere: fewer frames than the floor is a verdict of its own', () => {
  const v = checkTrial(trial({ sent: null, received: 7, ipv4Counted: 0, windowSec: 2 }), {
    ...live,
    ipv4Expected: null,
    iface: 'eth9',
  });
  assert.equal(v.ok, false);
  assert.match(
    v.reason!,
    /no traffic: 7 frames arrived on eth9 in 2\.0 s, fewer than 1000: is the generator running\?/,
  );
});

test('traffic from elsewhere: enough frames pass with nothing to compare against', () => {
  const v = checkTrial(trial({ sent: null, received: MIN_PACKETS, ipv4Counted: 10 }), {
    ...live,
    ipv4Expected: null,
  });
  assert.deepEqual(v, { ok: true, reason: null });
});

test('unknown drops do not make the accounting fail', () => {
  const v = checkTrial(
    trial({ sent: null, received: 5000, drops: { senderIf: 0, captureIf: 0, method: null } }),
    { ...live, ipv4Expected: null },
  );
  assert.equal(v.ok, true);
});

const counts = (over: Partial<WindowCounts>): WindowCounts => ({
  link: 'veth',
  captureRx: 1000,
  captureDropped: 0,
  captureNicLost: 0,
  senderDropped: 0,
  backlogDrops: 0,
  twinDropped: 0,
  methodDrops: 0,
  counted: 1000,
  sent: 1000,
  ...over,
});

test('loss: frames the veth refused were resent, and its backlog drops are not loss at the interface', () => {
  const l = windowLoss(counts({ senderDropped: 40, captureDropped: 40, backlogDrops: 40 }));
  assert.deepEqual(l, {
    received: 1000,
    drops: { senderIf: 0, captureIf: 0, method: 0 },
    resent: 40,
    dropsSource: 'kernel',
  });
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

test('loss on a wire: what the sending NIC dropped is lost, not resent, and every capture-side drop is loss', () => {
  // 5 dropped by the sender's driver after it took them, 3 in the capture port's backlog (with
  // RPS), 7 the capture NIC missed for want of buffers, 10 in the method.
  const l = windowLoss(
    counts({
      link: 'wire',
      senderDropped: 5,
      captureDropped: 3,
      backlogDrops: 3,
      captureNicLost: 7,
      methodDrops: 10,
      counted: 975,
    }),
  );
  assert.deepEqual(l, {
    received: 975,
    drops: { senderIf: 5, captureIf: 10, method: 10 },
    resent: 0,
    dropsSource: 'kernel',
  });
  const derived = windowLoss(
    counts({ link: 'wire', senderDropped: 5, captureNicLost: 7, methodDrops: null, counted: 980 }),
  );
  assert.deepEqual(derived.drops, { senderIf: 5, captureIf: 7, method: 8 });
});

test("loss on a wire: the baseline's received is what the NIC handed the kernel, less what the kernel dropped", () => {
  const l = windowLoss(
    counts({
      link: 'wire',
      methodDrops: null,
      counted: null,
      captureRx: 993,
      captureDropped: 2,
      captureNicLost: 7,
    }),
  );
  assert.deepEqual([l.received, l.drops.captureIf, l.received + l.drops.captureIf], [991, 9, 1000]);
});

test("loss: the baseline's received is what the interface delivered, less what it lost", () => {
  const l = windowLoss(
    counts({ methodDrops: null, counted: null, captureRx: 1000, captureDropped: 3 }),
  );
  assert.deepEqual([l.received, l.drops.captureIf, l.dropsSource], [997, 3, 'kernel']);
});
