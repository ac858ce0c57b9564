// placeholder: replaced by the af-xdp implementation
import type { CaptureMethod } from '../core/method.js';

export const afXdp: CaptureMethod = {
  name: 'af-xdp',
  summary: 'AF_XDP socket, UMEM read in place (placeholder)',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'not built yet' }),
  maxHoldFrames: () => null,
  open: () => {
    throw new Error('af-xdp is not built yet');
  },
};
