/**
 * fastnet-zc: the fastnet module in ZC mode ("mode 3"): the NIC DMAs each frame straight into a
 * slot of the ring this process maps, no skb is built, and the slots are read in place as in
 * RING mode (see fastnet-session.ts, kmod/fastnet/ZC.md). Only a NIC whose driver has fastnet's
 * hook takes it: capbench's patched e1000 (kmod/e1000), so in practice two-port mode in the VM
 * (npm run bench:vm); anywhere else the row says why not.
 */
import type { CaptureMethod } from '../core/method.js';
import { BATCH } from './batch.js';
import {
  FASTNET_ZC_MAX_HOLD,
  FastnetSession,
  fastnetZcProbe,
  fastnetSpread,
} from './fastnet-session.js';

export const fastnetZc = {
  name: 'fastnet-zc',
  summary:
    '/dev/fastnet kernel module, ZC mode: the NIC writes frames into mmap()ed slots (patched e1000 only)',
  tiers: ['js', 'native'],
  options: [BATCH],
  probe: fastnetZcProbe,
  spread: fastnetSpread,
  maxHoldFrames: () => FASTNET_ZC_MAX_HOLD,
  open: (ctx) => new FastnetSession(ctx, 'zc'),
} satisfies CaptureMethod;
