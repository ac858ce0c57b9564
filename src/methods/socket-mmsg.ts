import type { CaptureMethod } from '../core/method.js';
import { MAX_SOCKET_BUFFER, socketBytesPerFrame } from './buffer-sizing.js';
import { fanoutSpread } from './fanout.js';
import { PacketSocketSession } from './packet-socket-session.js';
import { openSpread, releaseSpread } from './threaded-session.js';

export const socketMmsg: CaptureMethod = {
  name: 'socket-mmsg',
  summary: 'the same AF_PACKET socket drained with recvmmsg() batches (--batch frames per call)',
  tiers: ['js', 'native'],
  probe: () => ({ available: true }),
  maxHoldFrames: (frameBytes) => Math.floor(MAX_SOCKET_BUFFER / socketBytesPerFrame(frameBytes)),
  spread: fanoutSpread,
  release: releaseSpread('socket-mmsg'),
  open: (ctx) => openSpread('socket-mmsg', ctx, (c) => new PacketSocketSession(c, c.batch)),
};
