// placeholder: replaced by the packet-mmap implementation
import type { CaptureMethod } from '../core/method.js';

export const packetMmap: CaptureMethod = {
  name: 'packet-mmap',
  summary: 'PACKET_RX_RING with TPACKET_V3: retired blocks read in place (placeholder)',
  tiers: ['js', 'native'],
  probe: () => ({ available: false, reason: 'not built yet' }),
  maxHoldFrames: () => null,
  open: () => {
    throw new Error('packet-mmap is not built yet');
  },
};
