import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowLoad } from '../../src/core/accounting.js';
import { atReference, referenceSpeed, speedSpread, twoClusters } from '../../src/core/drift.js';
import type { WindowSpeed } from '../../src/core/results.js';

const speed = (reader: number, sender: number | null): WindowSpeed => ({
  reader: { before: reader, after: reader },
  sender: sender === null ? null : { before: sender, after: sender },
});

test('the reference is the median probe per CPU role; a window is the mean of its probes before and after', () => {
  const ref = referenceSpeed([
    speed(1.0e6, 2.0e6),
    speed(1.2e6, 2.4e6),
    { reader: { before: 0.9e6, after: 1.3e6 }, sender: speed(0, 2.2e6).sender },
  ]);
  assert.deepEqual(ref, { readerNs: 1.1e6, senderNs: 2.2e6 });
  assert.equal(
    referenceSpeed([speed(1e6, null), speed(1e6, 2e6)])!.senderNs,
    null,
    'a window without a sender probe',
  );
  assert.equal(referenceSpeed([]), null);
});

test("at reference speed a window's CPU time is scaled by its own probe: the reader's by the reader's CPU, the sender side's by the sender's", () => {
  const load: WindowLoad = {
    cpu: { threadSec: 0.012, threadUserSec: 0.004, threadSysSec: 0.008, systemBusySec: 0.6 },
    windowSec: 0.1,
    packets: 1000,
    sent: null,
    delivery: {
      senderSec: 0.3,
      softirqSec: 0.03,
      sent: 1000,
      twinSec: 0.15,
      twinSent: 500,
      system: null,
    },
    // The reader's CPU ran 1.2× slower than the reference, the sender's 1.5× slower.
    speed: speed(1.2e6, 3e6),
  };
  const at = atReference(load, { readerNs: 1e6, senderNs: 2e6 });
  assert.ok(Math.abs(at.cpu.threadSec - 0.01) < 1e-12);
  assert.ok(Math.abs(at.cpu.threadUserSec + at.cpu.threadSysSec - 0.01) < 1e-12);
  assert.ok(Math.abs(at.delivery!.senderSec - 0.2) < 1e-12);
  assert.ok(Math.abs(at.delivery!.softirqSec - 0.02) < 1e-12);
  assert.ok(Math.abs(at.delivery!.twinSec! - 0.1) < 1e-12);
  assert.ok(Math.abs(at.cpu.systemBusySec - 0.4) < 1e-12);
  assert.deepEqual(
    [at.packets, at.delivery!.sent, at.delivery!.twinSent],
    [1000, 1000, 500],
    'counts are not scaled',
  );
  assert.equal(
    atReference({ ...load, speed: null }, { readerNs: 1e6, senderNs: 2e6 }).cpu.threadSec,
    0.012,
    'no probe: as paid',
  );
});

test('the run speed spread: median, range and how far apart the fastest and slowest windows ran', () => {
  const s = speedSpread([1.0e6, 1.1e6, 1.2e6, 1.3e6])!;
  assert.equal(s.medianNs, 1.15e6);
  assert.deepEqual([s.minNs, s.maxNs], [1.0e6, 1.3e6]);
  assert.ok(Math.abs(s.rangePct - (0.3 / 1.15) * 100) < 1e-9);
  assert.equal(speedSpread([]), null);
});

test('two clusters: one spread is not flagged, two groups five spreads apart are, and the threshold follows the sample size', () => {
  const one = [100, 101, 99, 100, 102, 98, 100, 101, 99, 100, 103, 97];
  assert.equal(twoClusters(one)!.two, false, JSON.stringify(twoClusters(one)));
  const two = [100, 101, 99, 100, 102, 98, 110, 111, 109, 110, 112, 108];
  assert.equal(twoClusters(two)!.two, true, JSON.stringify(twoClusters(two)));
  // A third of the windows apart is two clusters too.
  assert.equal(twoClusters([100, 101, 99, 100, 102, 98, 100, 120, 121, 119])!.two, true);
  // A lone outlier is not a cluster: each group must hold a fifth of the windows.
  assert.equal(twoClusters([100, 101, 99, 100, 102, 98, 100, 101, 99, 150])!.two, false);
  assert.ok(twoClusters(one)!.threshold > twoClusters([...one, ...one])!.threshold);
  assert.equal(twoClusters([1, 2, 3, 4]), null, 'fewer than 5 windows');
  assert.equal(twoClusters([5, 5, 5, 5, 5])!.two, false, 'no spread at all');
});
