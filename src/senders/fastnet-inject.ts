/**
 * fastnet-inject: the fixture's frames handed to capbench's own kernel module (kmod/fastnet) in
 * INJECT mode, which copies each into a new skb and transmits it on the sender's end of the veth
 * with dev_queue_xmit(), through its qdisc. Up to --batch frames go in one FASTNET_IOC_SEND (a
 * table of descriptors pointing at the frames where they are, as sendmmsg()'s iovecs do). The one
 * send session drives it like every other send method; only the native handle differs
 * (src/native/fastnet/fastnet_inject.c): the file is bound from a thread that has joined the
 * sender's namespace, since the module looks the interface up in the caller's. The module only
 * loads in the VM (`npm run test:vm`), where timings are emulated.
 */
import { availability } from '../core/method.js';
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import { native } from '../native/binding.js';
import { SenderSession, type Sender, type SenderOptions } from './sender-session.js';

/** The addon's part for this method (fastnet_inject_binding.cc), declared beside its one user. */
declare module '../native/binding.js' {
  interface NativeBinding {
    /** The `Sender` of sender-session.ts over /dev/fastnet in INJECT mode. */
    FastnetInjector: new (options: SenderOptions) => Sender;
    /** Whether /dev/fastnet is loaded, speaks the addon's ABI and knows INJECT mode. */
    fastnetInjectProbe(): LibraryProbe;
  }
}

export const fastnetInject = {
  name: 'fastnet-inject',
  summary:
    '/dev/fastnet INJECT: the kernel module builds an skb per frame and dev_queue_xmit()s it, --batch frames per ioctl',
  kind: 'frames',
  tiers: ['js', 'native'],
  probe: () => availability(native().fastnetInjectProbe()),
  open: (ctx: SendOpenContext) =>
    new SenderSession(
      ctx,
      {
        kind: 'packet',
        // Batches: one FASTNET_IOC_SEND of --batch frames, as sendmmsg() is for a socket.
        // dev_queue_xmit() always goes through the qdisc: the module has no bypass.
        call: 'sendmmsg',
      },
      (o) => new (native().FastnetInjector)(o),
    ),
} satisfies SendMethod;
