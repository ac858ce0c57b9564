/**
 * A TCP stream from the sender's namespace to the sink's listener on the capture end: write()s of
 * --payload bytes, plain or MSG_ZEROCOPY (pages of the sender's buffer pinned and attached to the
 * skbs; completions read from the error queue). TSO and GSO are on at the sender's end, so the
 * kernel cuts the stream into segments as late as it can.
 */
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import type { SendMethodName } from '../core/send-config.js';
import { SenderSession, zerocopyProbe } from './sender-session.js';

function tcpMethod<N extends SendMethodName>(
  name: N,
  zerocopy: boolean,
  summary: string,
): SendMethod & { readonly name: N } {
  return {
    name,
    summary,
    kind: 'tcp',
    tiers: ['js', 'native'],
    probe: () => (zerocopy ? zerocopyProbe('tcp-zerocopy') : { available: true }),
    open: (ctx: SendOpenContext) => new SenderSession(ctx, { kind: 'tcp', call: 'send', zerocopy }),
  };
}

export const tcpSend = tcpMethod(
  'tcp-send',
  false,
  'TCP stream, one write() of --payload bytes per call',
);
export const tcpZerocopy = tcpMethod(
  'tcp-zerocopy',
  true,
  'TCP stream, MSG_ZEROCOPY writes from one large anonymous buffer; completions from the error queue',
);
