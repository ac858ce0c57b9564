// placeholder: replaced by the fastnet implementation
import type { CaptureMethod } from '../core/method.js';

export const fastnetRead: CaptureMethod = {
  name: 'fastnet-read',
  summary: '/dev/fastnet, one read() per packet (placeholder)',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'not built yet' }),
  maxHoldFrames: () => null,
  open: () => {
    throw new Error('fastnet-read is not built yet');
  },
};
