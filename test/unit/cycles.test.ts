import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  baselineFrom,
  rowCycles,
  type Baseline,
  type WindowLoad,
} from '../../src/core/accounting.js';
import type { DeliveryMeasure } from '../../src/core/results.js';

// Fake clocks: every figure below is what the sender's and reader's clocks would have read. At
// 1 GHz a second is 1e9 cycles, so the expected values can be read off the inputs.
const GHZ = 1e9;
const idle = { threadSec: 0, threadUserSec: 0, threadSysSec: 0, systemBusySec: 0 };

function load(over: Partial<WindowLoad>): WindowLoad {
  return {
    cpu: { ...idle, threadSec: 0.001 },
    windowSec: 0.01,
    packets: 100_000,
    sent: null,
    delivery: null,
    speed: null,
    ...over,
  };
}

/** A drain fill: the generator sent `sent` frames at `perFrame` s each, its twin at `twinPerFrame`. */
function fill(perFrame: number, twinPerFrame: number, sent = 100_000): DeliveryMeasure {
  return {
    senderSec: perFrame * sent,
    softirqSec: 0,
    sent,
    twinSec: twinPerFrame * 150_000,
    twinSent: 150_000,
  };
}

const twinBaseline: Baseline = {
  busyPerSec: 0,
  busyPerSentFrame: null,
  senderPerFrame: null,
  twinPerFrame: 1e-6,
  systemPerFrame: null,
};

test("drain: deliver is the fill's cost over its twin's, total adds the reader's thread time", () => {
  const c = rowCycles([load({ delivery: fill(1.3e-6, 1e-6) })], 2, GHZ, twinBaseline, 'tsc');
  assert.equal(Math.round(c.deliver!), 300);
  assert.equal(c.read, 10);
  assert.equal(Math.round(c.total!), 310);
  assert.equal(c.deliverSource, 'sender-clocks-vs-twin');
});

test('drain: a fill the machine ran slower costs the same once measured against its own twin', () => {
  // Both arms 1.5× slower in the second window (a busy neighbour): the ratio, 1.3, did not move.
  const loads = [load({ delivery: fill(1.3e-6, 1e-6) }), load({ delivery: fill(1.95e-6, 1.5e-6) })];
  const scale = baselineFrom([], loads, 'drain')!;
  assert.equal(scale.twinPerFrame, 1.25e-6);
  const c = rowCycles(loads, 2, GHZ, scale, 'tsc');
  assert.equal(Math.round(c.deliver!), 375);
  assert.ok(c.totalRme! < 1e-9);
});

test("drain: ksoftirqd's time during the fill is part of the delivery", () => {
  const d = { ...fill(1.2e-6, 1e-6), softirqSec: 0.01 };
  assert.equal(
    Math.round(rowCycles([load({ delivery: d })], 2, GHZ, twinBaseline, 'tsc').deliver!),
    300,
  );
});

test("live: deliver is the sender's cost per frame over the none baseline's", () => {
  const delivery = {
    senderSec: 0.15,
    softirqSec: 0.05,
    sent: 100_000,
    twinSec: null,
    twinSent: null,
  };
  const none: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: 1.5e-6,
    twinPerFrame: null,
    systemPerFrame: null,
  };
  const c = rowCycles([load({ sent: 100_000, delivery })], 2, GHZ, none, 'tsc');
  assert.equal(Math.round(c.deliver!), 500);
  assert.equal(c.deliverSource, 'sender-clocks-vs-none');
});

test('live: delivering frames that were then dropped is charged to the packets that arrived', () => {
  const delivery = { senderSec: 0.2, softirqSec: 0, sent: 100_000, twinSec: null, twinSent: null };
  const none: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: 1.5e-6,
    twinPerFrame: null,
    systemPerFrame: null,
  };
  const c = rowCycles([load({ packets: 50_000, sent: 100_000, delivery })], 2, GHZ, none, 'tsc');
  assert.equal(Math.round(c.deliver!), 1000);
});

test('live without a baseline: no deliver and no total, and the note says why', () => {
  const delivery = { senderSec: 0.2, softirqSec: 0, sent: 100_000, twinSec: null, twinSent: null };
  const c = rowCycles([load({ sent: 100_000, delivery })], 2, GHZ, null, 'tsc');
  assert.equal(c.deliver, null);
  assert.equal(c.total, null);
  assert.equal(c.read, 10);
  assert.match(c.deliverNote!, /no none baseline/);
});

test('--iface: deliver falls back to machine-wide busy time less the reader and the baseline', () => {
  // 2 s of windows on 2 CPUs; 0.9 s busy, 0.1 s of it the reader's, 0.2 s/s what none spent.
  const cpu = { ...idle, threadSec: 0.1, systemBusySec: 0.9 };
  const c = rowCycles(
    [load({ cpu, windowSec: 2, packets: 200_000 })],
    2,
    GHZ,
    {
      busyPerSec: 0.2,
      busyPerSentFrame: null,
      senderPerFrame: null,
      twinPerFrame: null,
      systemPerFrame: null,
    },
    'tsc',
  );
  assert.equal(c.deliverSource, 'system-busy-vs-none');
  assert.equal(Math.round(c.deliver!), 2000);
  assert.equal(Math.round(c.total!), 2500);
  assert.match(c.deliverNote!, /machine-wide busy time/);
});

test("--iface: windows too short for /proc/stat's ticks give no deliver, with the reason", () => {
  const c = rowCycles(
    [load({ cpu: { ...idle, threadSec: 0.1, systemBusySec: 0.5 }, windowSec: 0.5 })],
    2,
    GHZ,
    {
      busyPerSec: 0,
      busyPerSentFrame: null,
      senderPerFrame: null,
      twinPerFrame: null,
      systemPerFrame: null,
    },
    'tsc',
  );
  assert.equal(c.deliver, null);
  assert.match(c.deliverNote!, /10 ms ticks/);
  assert.equal(c.systemBusy, null);
});

test('a handful of packets gives no per-packet figure, not 297 million cycles', () => {
  const c = rowCycles(
    [load({ packets: 7, cpu: { ...idle, threadSec: 0.8 } })],
    2,
    GHZ,
    null,
    'tsc',
  );
  assert.deepEqual([c.deliver, c.read, c.total, c.totalRme], [null, null, null, null]);
  assert.match(c.deliverNote!, /7 packets .* fewer than 1000/);
});

test("read: the exact thread total is split in getrusage's proportions", () => {
  // getrusage lags (tick-sampled): 10 ms seen, 3:1, while the exact total is 20 ms.
  const c = rowCycles(
    [
      load({
        cpu: { ...idle, threadSec: 0.02, threadUserSec: 0.0075, threadSysSec: 0.0025 },
        packets: 1e4,
      }),
    ],
    2,
    GHZ,
    null,
    'tsc',
  );
  assert.equal(Math.round(c.read!), 2000);
  assert.equal(Math.round(c.user!), 1500);
  assert.equal(Math.round(c.sys!), 500);
});

test('systemBusy is a cross-check withheld when the windows are too short for /proc/stat', () => {
  const cpu = { ...idle, threadSec: 0.01, threadUserSec: 0.01, systemBusySec: 0.02 };
  const base: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: null,
    twinPerFrame: null,
    systemPerFrame: null,
  };
  assert.equal(
    rowCycles([load({ cpu, windowSec: 0.1, packets: 1000 })], 2, GHZ, base, 'tsc').systemBusy,
    null,
  );
  assert.equal(
    rowCycles([load({ cpu, windowSec: 1, packets: 1000 })], 2, GHZ, base, 'tsc').systemBusy,
    20000,
  );
});

test("the live baseline is what none's windows spent per frame sent, on the sender's clocks", () => {
  const none = [
    load({
      sent: 1000,
      packets: 0,
      windowSec: 1,
      cpu: { ...idle, systemBusySec: 0.5 },
      delivery: { senderSec: 0.001, softirqSec: 0, sent: 1000, twinSec: null, twinSent: null },
    }),
    load({
      sent: 3000,
      packets: 0,
      windowSec: 1,
      cpu: { ...idle, systemBusySec: 1.5 },
      delivery: { senderSec: 0.002, softirqSec: 0.001, sent: 3000, twinSec: null, twinSent: null },
    }),
  ];
  const b = baselineFrom(none, none, 'live')!;
  assert.equal(b.senderPerFrame, 1e-6);
  assert.equal(b.busyPerSentFrame, 0.0005);
  assert.equal(b.busyPerSec, 1);
  assert.equal(b.twinPerFrame, null);
});

/** A two-port window: `sent` frames delivered while the machine was busy `busySec`, `readerSec` of it the reader's. */
function twoPort(
  sent: number,
  busySec: number,
  readerSec: number,
  wallSec: number,
  packets = sent,
): WindowLoad {
  const delivery: DeliveryMeasure = {
    senderSec: 0.01,
    softirqSec: 0,
    sent,
    twinSec: null,
    twinSent: null,
    system: { busySec, readerSec, wallSec },
  };
  return load({ sent, packets, delivery, cpu: { ...idle, threadSec: 0.001 } });
}

test("two-port: deliver is the machine's busy time while delivering, less the reader and none's per frame sent", () => {
  // none: 0.1 s busy for 100,000 frames (the generator and the NIC with nothing attached).
  const none = [twoPort(100_000, 0.1, 0, 1, 0)];
  const b = baselineFrom(none, none, 'drain')!;
  assert.equal(b.systemPerFrame, 1e-6);
  // The row: 0.16 s busy, 0.01 s of it the reader's, for 100,000 frames: 0.5 µs a frame over none.
  const c = rowCycles([twoPort(100_000, 0.16, 0.01, 1)], 2, GHZ, b, 'tsc');
  assert.equal(c.deliverSource, 'system-busy-two-port');
  assert.equal(Math.round(c.deliver!), 500);
  assert.equal(Math.round(c.total!), 510);
  // Delivering frames that were then lost is charged to those that arrived.
  assert.equal(
    Math.round(rowCycles([twoPort(100_000, 0.16, 0.01, 1, 50_000)], 2, GHZ, b, 'tsc').deliver!),
    1000,
  );
});

test("two-port: phases too short for /proc/stat's ticks give no deliver, with the reason; no none, no deliver", () => {
  const b: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: null,
    twinPerFrame: null,
    systemPerFrame: 1e-6,
  };
  const short = rowCycles(
    [twoPort(100_000, 0.16, 0.01, 0.1), twoPort(100_000, 0.16, 0.01, 0.1)],
    2,
    GHZ,
    b,
    'tsc',
  );
  assert.equal(short.deliver, null);
  assert.equal(short.deliverSource, 'system-busy-two-port');
  assert.match(short.deliverNote!, /10 ms ticks: needs 1 s of delivery in all/);
  const noBase = rowCycles(
    [twoPort(100_000, 0.16, 0.01, 1)],
    2,
    GHZ,
    { ...b, systemPerFrame: null },
    'tsc',
  );
  assert.match(noBase.deliverNote!, /no none baseline/);
});

test('a deliver below zero is no measurement: deliver and total are null, and the note says why', () => {
  // Two-port under qemu: the machine was busier delivering none's frames than this row's.
  const b: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: null,
    twinPerFrame: null,
    systemPerFrame: 2e-6,
  };
  const c = rowCycles([twoPort(100_000, 0.16, 0.01, 1)], 2, GHZ, b, 'tsc');
  assert.equal(c.deliver, null);
  assert.equal(c.total, null);
  assert.equal(c.totalRme, null);
  assert.equal(c.read, 10);
  assert.equal(c.deliverSource, 'system-busy-two-port');
  assert.match(
    c.deliverNote!,
    /^measured below zero \(machine-wide busy time: .*\): the reference cost more than this row's frames/,
  );
  // On the test bed: a fill cheaper than its twin.
  const drain = rowCycles([load({ delivery: fill(0.9e-6, 1e-6) })], 2, GHZ, twinBaseline, 'tsc');
  assert.deepEqual(
    [drain.deliver, drain.total, drain.deliverSource],
    [null, null, 'sender-clocks-vs-twin'],
  );
  assert.match(drain.deliverNote!, /^measured below zero: /);
  // Live, against none: a row whose sender spent less per frame than none's.
  const none: Baseline = {
    busyPerSec: 0,
    busyPerSentFrame: null,
    senderPerFrame: 2e-6,
    twinPerFrame: null,
    systemPerFrame: null,
  };
  const live = rowCycles(
    [
      load({
        sent: 100_000,
        delivery: { senderSec: 0.15, softirqSec: 0, sent: 100_000, twinSec: null, twinSent: null },
      }),
    ],
    2,
    GHZ,
    none,
    'tsc',
  );
  assert.equal(live.deliver, null);
  assert.equal(live.total, null);
});

test('a deliver of exactly zero is a measurement', () => {
  const c = rowCycles([load({ delivery: fill(1e-6, 1e-6) })], 2, GHZ, twinBaseline, 'tsc');
  assert.equal(c.deliver, 0);
  assert.equal(c.total, 10);
});

test('--deliver off: read alone, no deliver and no total, and the note says it was not measured', () => {
  const c = rowCycles([load({ delivery: fill(1.3e-6, 1e-6) })], 2, GHZ, twinBaseline, 'tsc', {
    deliver: false,
  });
  assert.deepEqual(
    [c.deliver, c.total, c.totalRme, c.deliverSource, c.read],
    [null, null, null, null, 10],
  );
  assert.match(c.deliverNote!, /--deliver off/);
});
