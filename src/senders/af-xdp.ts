/** Being written: replaced by the method's implementation before it lands. */
import type { SendMethod } from '../core/send-method.js';

export const afXdpTx = {
  name: 'af-xdp-tx',
  summary: 'being written',
  kind: 'frames',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'being written' }),
  open: () => {
    throw new Error('being written');
  },
} satisfies SendMethod;
