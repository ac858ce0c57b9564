import type { CaptureMethod } from '../core/method.js';
import { MAX_SOCKET_BUFFER, socketBytesPerFrame } from './buffer-sizing.js';
import { fanoutSpread } from './fanout.js';
import { PacketSocketSession } from './packet-socket-session.js';
import { readerThreads } from './threaded-session.js';

export const socket = {
  ...readerThreads('socket', (c) => new PacketSocketSession(c, 1)),
  summary: 'AF_PACKET SOCK_RAW, one recv() per packet (the classic raw socket)',
  tiers: ['js', 'native'],
  probe: () => ({ available: true }),
  maxHoldFrames: (frameBytes) => Math.floor(MAX_SOCKET_BUFFER / socketBytesPerFrame(frameBytes)),
  spread: fanoutSpread,
} satisfies CaptureMethod;
