import type { CaptureMethod } from '../core/method.js';
import { optionValue } from '../core/method-options.js';
import { BATCH } from './batch.js';
import { MAX_SOCKET_BUFFER, socketBytesPerFrame } from './buffer-sizing.js';
import { fanoutSpread } from './fanout.js';
import { PacketSocketSession } from './packet-socket-session.js';
import { readerThreads } from './threaded-session.js';

export const socketMmsg = {
  ...readerThreads('socket-mmsg', (c) => new PacketSocketSession(c, optionValue(c.values, BATCH))),
  summary: 'the same AF_PACKET socket drained with recvmmsg() batches (--batch frames per call)',
  tiers: ['js', 'native'],
  options: [BATCH],
  probe: () => ({ available: true }),
  maxHoldFrames: (frameBytes) => Math.floor(MAX_SOCKET_BUFFER / socketBytesPerFrame(frameBytes)),
  spread: fanoutSpread,
} satisfies CaptureMethod;
