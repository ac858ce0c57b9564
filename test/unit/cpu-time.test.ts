import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { systemIdleSeconds, usageBetween } from '../../src/core/cpu-time.js';

test('idle time is idle+iowait+steal, in seconds', () => {
  // user nice system idle iowait irq softirq steal
  const stat = 'cpu  100 20 300 9999 50 7 3 400 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n';
  assert.equal(systemIdleSeconds(stat), (9999 + 50 + 400) / 100);
});

test('busy time is wall time on every CPU less what was idle; thread time is exact', () => {
  const threadSwitches = { voluntary: 0, involuntary: 0, minorFaults: 0 };
  const a = {
    threadUserNs: 0,
    threadSysNs: 0,
    threadTotalNs: 0,
    threadSwitches,
    systemIdleSec: 10,
    wallSec: 100,
  };
  const b = {
    threadUserNs: 0,
    threadSysNs: 0,
    threadTotalNs: 5e8,
    threadSwitches,
    systemIdleSec: 11,
    wallSec: 101,
  };
  const u = usageBetween(a, b);
  assert.equal(u.threadSec, 0.5);
  assert.equal(u.systemBusySec, os.cpus().length - 1);
});
