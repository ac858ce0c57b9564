/** fastnet-read: the fastnet module in READ mode, one read() per frame (see fastnet-session.ts). */
import type { CaptureMethod } from '../core/method.js';
import {
  FASTNET_MAX_HOLD,
  FastnetSession,
  fastnetProbe,
  fastnetSpread,
} from './fastnet-session.js';

export const fastnetRead = {
  name: 'fastnet-read',
  summary: '/dev/fastnet kernel module, READ mode: rx_handler queue, one read() per packet',
  tiers: ['js', 'native'],
  probe: fastnetProbe,
  spread: fastnetSpread,
  maxHoldFrames: () => FASTNET_MAX_HOLD,
  open: (ctx) => new FastnetSession(ctx, 'read'),
} satisfies CaptureMethod;
