import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, rme, summarize, t95 } from '../../src/core/statistics.js';

test('t95: Student quantiles, conservative between table entries', () => {
  assert.equal(t95(1), 12.706);
  assert.equal(t95(4.7), 2.776);
  assert.equal(t95(35), 2.042);
  assert.equal(t95(Infinity), 1.96);
});

test('rme: the 95% margin of the mean relative to it, in percent', () => {
  // mean 10, sample sd 1, n 4: t(3) 3.182 × 0.5 / 10.
  assert.ok(Math.abs(rme([9, 11, 9, 11])! - (100 * 3.182 * (Math.sqrt(4 / 3) / 2)) / 10) < 1e-9);
  assert.equal(rme([5]), null);
  assert.equal(rme([0, 0]), null);
});

test('percentiles interpolate between ranks', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([4, 1, 3, 2], 100), 4);
  assert.deepEqual(summarize([2]), { mean: 2, rme: null, p50: 2, p99: 2 });
  assert.equal(summarize([]), null);
});
