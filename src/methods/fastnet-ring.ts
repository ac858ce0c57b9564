// placeholder: replaced by the fastnet implementation
import type { CaptureMethod } from '../core/method.js';

export const fastnetRing: CaptureMethod = {
  name: 'fastnet-ring',
  summary: '/dev/fastnet, mmap ring of slots (placeholder)',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'not built yet' }),
  maxHoldFrames: () => null,
  open: () => {
    throw new Error('fastnet-ring is not built yet');
  },
};
