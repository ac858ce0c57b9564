/**
 * Every send method capbench knows, by name, typed against core's SEND_METHOD_NAMES (as
 * methods/registry.ts is against the capture methods'): a name without a method, or a method
 * filed under another's name, does not compile.
 */
import { SEND_METHOD_NAMES, type SendMethodName } from '../core/send-config.js';
import type { SendMethod } from '../core/send-method.js';
import { afXdpTx } from './af-xdp.js';
import { fastnetInject } from './fastnet-inject.js';
import { ioUringSend, ioUringSendZc } from './io-uring.js';
import { packetSend, packetSendmmsg, packetTxRing } from './packet.js';
import { tcpSend, tcpZerocopy } from './tcp.js';
import { udpGso, udpSend, udpSendmmsg, udpZerocopy } from './udp.js';

const BY_NAME: { readonly [N in SendMethodName]: SendMethod & { readonly name: N } } = {
  'packet-send': packetSend,
  'packet-sendmmsg': packetSendmmsg,
  'packet-tx-ring': packetTxRing,
  'af-xdp-tx': afXdpTx,
  'udp-send': udpSend,
  'udp-sendmmsg': udpSendmmsg,
  'udp-gso': udpGso,
  'udp-zerocopy': udpZerocopy,
  'io-uring-send': ioUringSend,
  'io-uring-send-zc': ioUringSendZc,
  'tcp-send': tcpSend,
  'tcp-zerocopy': tcpZerocopy,
  'fastnet-inject': fastnetInject,
};

/** In the order rows are run and shown. */
export const SEND_METHODS: ReadonlyMap<SendMethodName, SendMethod> = new Map(
  SEND_METHOD_NAMES.map((n) => [n, BY_NAME[n]]),
);
