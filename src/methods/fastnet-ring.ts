/** fastnet-ring: the fastnet module in RING mode, slots read in place (see fastnet-session.ts). */
import type { CaptureMethod } from '../core/method.js';
import { BATCH } from './batch.js';
import {
  FASTNET_MAX_HOLD,
  FastnetSession,
  fastnetProbe,
  fastnetSpread,
} from './fastnet-session.js';

export const fastnetRing = {
  name: 'fastnet-ring',
  summary: '/dev/fastnet kernel module, RING mode: rx_handler copies into mmap()ed slots',
  tiers: ['js', 'native'],
  options: [BATCH],
  probe: fastnetProbe,
  spread: fastnetSpread,
  maxHoldFrames: () => FASTNET_MAX_HOLD,
  open: (ctx) => new FastnetSession(ctx, 'ring'),
} satisfies CaptureMethod;
