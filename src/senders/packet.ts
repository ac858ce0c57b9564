/**
 * The packet socket's three ways of sending the fixture's frames: AF_PACKET SOCK_RAW bound to the
 * sender's end of the veth, one send() per frame, sendmmsg() batches, or a PACKET_TX_RING
 * (TPACKET_V2) filled in place and kicked with one send() per batch. --qdisc-bypass sets
 * PACKET_QDISC_BYPASS on all three. The TX ring is the plain one a program like trafgen uses: no
 * virtio-net header, so the kernel attaches the slot's bytes to the skb as a zero-copy fragment,
 * which veth then copies (skb_copy_ubufs); capbench's own generator avoids that copy (see
 * src/native/generator/generator_tx_ring.c) and is not what is measured here.
 */
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import type { SendMethodName } from '../core/send-config.js';
import { SenderSession, type SendCall } from './sender-session.js';

function packetMethod<N extends SendMethodName>(
  name: N,
  call: SendCall,
  summary: string,
): SendMethod & { readonly name: N } {
  return {
    name,
    summary,
    kind: 'frames',
    tiers: ['js', 'native'],
    probe: () => ({ available: true }),
    open: (ctx: SendOpenContext) =>
      new SenderSession(ctx, { kind: 'packet', call, qdiscBypass: ctx.config.qdiscBypass }),
  };
}

export const packetSend = packetMethod(
  'packet-send',
  'send',
  'AF_PACKET SOCK_RAW, one send() per frame',
);
export const packetSendmmsg = packetMethod(
  'packet-sendmmsg',
  'sendmmsg',
  'AF_PACKET SOCK_RAW, sendmmsg() batches of --batch frames',
);
export const packetTxRing = packetMethod(
  'packet-tx-ring',
  'tx-ring',
  'PACKET_TX_RING (TPACKET_V2): frames written into shared slots, one send() kick per --batch',
);
