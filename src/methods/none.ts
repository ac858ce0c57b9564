/**
 * The baseline: nothing attached. The runner reads the interface's own counters as "received",
 * and the system-wide CPU this row uses is what every other row is measured against.
 */
import type { CaptureMethod, CaptureSession } from '../core/method.js';

const idle: CaptureSession = {
  received: 0,
  ipv4: 0,
  readsOnEventLoop: false,
  settleMs: 0,
  consume: () => Promise.resolve(performance.now()),
  stats: () => ({ seen: null, drops: null }),
  close: () => undefined,
};

export const none: CaptureMethod = {
  name: 'none',
  summary: 'nothing attached: the baseline every other row is measured against',
  tiers: ['js'],
  baseline: true,
  probe: () => ({ available: true }),
  maxHoldFrames: () => null,
  open: () => idle,
};
