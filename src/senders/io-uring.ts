/** Being written: replaced by the method's implementation before it lands. */
import type { SendMethod } from '../core/send-method.js';

export const ioUringSend = {
  name: 'io-uring-send',
  summary: 'being written',
  kind: 'udp',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'being written' }),
  open: () => {
    throw new Error('being written');
  },
} satisfies SendMethod;
export const ioUringSendZc = {
  name: 'io-uring-send-zc',
  summary: 'being written',
  kind: 'udp',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'being written' }),
  open: () => {
    throw new Error('being written');
  },
} satisfies SendMethod;
