import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemBusySeconds } from '../../src/core/cpu-time.js';

test('busy time is user+nice+system+irq+softirq, not idle, iowait or steal', () => {
  // user nice system idle iowait irq softirq steal
  const stat = 'cpu  100 20 300 9999 50 7 3 400 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n';
  assert.equal(systemBusySeconds(stat), (100 + 20 + 300 + 7 + 3) / 100);
});
