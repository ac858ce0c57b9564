/** Every method capbench knows, in the order rows are run and shown. */
import type { MethodName } from '../core/config.js';
import type { CaptureMethod } from '../core/method.js';
import { afXdp } from './af-xdp.js';
import { fastnetRead } from './fastnet-read.js';
import { fastnetRing } from './fastnet-ring.js';
import { fastnetZc } from './fastnet-zc.js';
import { none } from './none.js';
import { packetMmap } from './packet-mmap.js';
import { pcap } from './pcap.js';
import { pcapNative } from './pcap-native.js';
import { socket } from './socket.js';
import { socketMmsg } from './socket-mmsg.js';

export const METHODS: ReadonlyMap<MethodName, CaptureMethod> = new Map(
  [none, socket, socketMmsg, pcap, pcapNative, packetMmap, afXdp, fastnetRead, fastnetRing, fastnetZc].map((m) => [m.name, m]),
);
