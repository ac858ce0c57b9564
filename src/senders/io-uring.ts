/**
 * io-uring-send and io-uring-send-zc: udp-send's connected UDP socket, written through an
 * io_uring (src/native/io-uring/uring_send.c) in batches of --batch linked entries, submitted and
 * waited for in one io_uring_enter: IORING_OP_SEND, which copies as send() does, or
 * IORING_OP_SEND_ZC, which hands the kernel the sender's pages and posts a notification once it
 * has let go of them (counted as udp-zerocopy's completions are, copied ones apart). The native
 * handle has the Sender interface, so the one SenderSession drives it in both tiers.
 */
import { availability } from '../core/method.js';
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import type { SendMethodName } from '../core/send-config.js';
import { native } from '../native/binding.js';
import { SenderSession, type Sender, type SenderOptions } from './sender-session.js';

/**
 * The addon's part for these methods (src/native/io-uring/uring_send_binding.cc), declared here,
 * beside its one user.
 */
declare module '../native/binding.js' {
  interface NativeBinding {
    /** SenderOptions with kind 'udp'; call 'sendmmsg': batches of `batch` entries per enter. */
    IoUringSender: new (options: SenderOptions) => Sender;
    /** Whether io_uring can send here; zerocopy: also IORING_OP_SEND_ZC and UDP zero-copy. */
    ioUringSendProbe(zerocopy: boolean): LibraryProbe;
  }
}

function ioUringMethod<N extends SendMethodName>(
  name: N,
  zerocopy: boolean,
  summary: string,
): SendMethod & { readonly name: N } {
  return {
    name,
    summary,
    kind: 'udp',
    tiers: ['js', 'native'],
    probe: () => availability(native().ioUringSendProbe(zerocopy)),
    open: (ctx: SendOpenContext) =>
      new SenderSession(
        ctx,
        { kind: 'udp', call: 'sendmmsg', zerocopy },
        (o) => new (native().IoUringSender)(o),
      ),
  };
}

export const ioUringSend = ioUringMethod(
  'io-uring-send',
  false,
  "udp-send's socket through io_uring: --batch IORING_OP_SEND entries per io_uring_enter",
) satisfies SendMethod;
export const ioUringSendZc = ioUringMethod(
  'io-uring-send-zc',
  true,
  "udp-send's socket through io_uring: --batch IORING_OP_SEND_ZC entries per io_uring_enter, notifications from the completion queue",
) satisfies SendMethod;
