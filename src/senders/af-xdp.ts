/**
 * af-xdp-tx: the fixture's frames sent from an AF_XDP socket bound to queue 0 of the sender's end
 * of the veth, with a TX ring and no RX ring or XDP program (src/native/af-xdp/af_xdp_tx.c). The
 * frames are copied once, at open, into a UMEM of the socket's own, one chunk per frame; a batch
 * writes --batch TX descriptors pointing at those chunks and kicks with one sendto(). On veth the
 * socket is in copy mode (the kernel builds an skb per descriptor in the kick); zero-copy where
 * the driver advertises it. A frame counts as taken once its descriptor comes back on the
 * completion ring, as a TX ring slot does once released. The native handle has the Sender
 * interface, so the one SenderSession drives it in both tiers.
 */
import { availability } from '../core/method.js';
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import { native } from '../native/binding.js';
import { SenderSession, type Sender, type SenderOptions } from './sender-session.js';

/** What AfXdpSender needs beyond SenderOptions: the units, each copied into its UMEM chunk at open. */
export interface AfXdpSenderOptions extends SenderOptions {
  /** (offset, length) pairs into `data`, one per unit: the pairs every send will use. */
  table: Uint32Array;
  units: number;
}

/** The addon's part for this method (af_xdp_tx_binding.cc), declared beside its one user. */
declare module '../native/binding.js' {
  interface NativeBinding {
    /** The `Sender` of sender-session.ts over an AF_XDP socket's TX ring; `data` is its UMEM. */
    AfXdpSender: new (options: AfXdpSenderOptions) => Sender;
  }
}

export const afXdpTx = {
  name: 'af-xdp-tx',
  summary:
    'AF_XDP socket, TX ring only: --batch descriptors pointing into the UMEM, one sendto() kick (copy mode on veth)',
  kind: 'frames',
  tiers: ['js', 'native'],
  // The receive method's probe: the addon built with libxdp, and AF_XDP sockets in this kernel.
  probe: () => availability(native().afXdpProbe()),
  open: (ctx: SendOpenContext) =>
    new SenderSession(
      ctx,
      // Batches: descriptors for --batch frames and one kick, as a TX ring's slots are; no qdisc
      // on this path (the kernel hands each skb straight to the driver).
      { kind: 'packet', call: 'tx-ring' },
      (o) => new (native().AfXdpSender)({ ...o, table: ctx.units.table, units: ctx.units.count }),
    ),
} satisfies SendMethod;
