/**
 * Every capture method capbench knows, by name. The names are core's (config.ts METHOD_NAMES,
 * which --methods and `capbench list` take); this record is typed against them, so a name without
 * a method, a method without a name, or a method filed under another's name does not compile.
 */
import { CAPTURE_METHOD_NAMES, type CaptureMethodName } from '../core/config.js';
import type { CaptureMethod } from '../core/method.js';
import type { MethodOption } from '../core/method-options.js';
import { afXdp } from './af-xdp.js';
import { dpdk } from './dpdk.js';
import { fastnetRead } from './fastnet-read.js';
import { fastnetRing } from './fastnet-ring.js';
import { fastnetZc } from './fastnet-zc.js';
import { ioUring } from './io-uring.js';
import { packetMmap } from './packet-mmap.js';
import { pcap } from './pcap.js';
import { pcapNative } from './pcap-native.js';
import { socket } from './socket.js';
import { socketMmsg } from './socket-mmsg.js';

const BY_NAME: { readonly [N in CaptureMethodName]: CaptureMethod & { readonly name: N } } = {
  socket,
  'socket-mmsg': socketMmsg,
  'io-uring': ioUring,
  pcap,
  'pcap-native': pcapNative,
  'packet-mmap': packetMmap,
  'af-xdp': afXdp,
  dpdk,
  'fastnet-read': fastnetRead,
  'fastnet-ring': fastnetRing,
  'fastnet-zc': fastnetZc,
};

/** In the order rows are run and shown. */
export const METHODS: ReadonlyMap<CaptureMethodName, CaptureMethod> = new Map(
  CAPTURE_METHOD_NAMES.map((n) => [n, BY_NAME[n]]),
);

/**
 * Every option the methods declare, once each in the order first declared: an option several
 * methods read (--batch) is one declaration they share, and two by one name would be a mistake.
 */
export const METHOD_OPTIONS: readonly MethodOption[] = (() => {
  const byName = new Map<string, MethodOption>();
  for (const method of METHODS.values()) {
    for (const option of method.options ?? []) {
      const seen = byName.get(option.name);
      if (seen !== undefined && seen !== option)
        throw new Error(
          `two methods declare --${option.name} differently: declare it once and share it`,
        );
      byName.set(option.name, option);
    }
  }
  return [...byName.values()];
})();
