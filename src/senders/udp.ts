/**
 * UDP sockets, where the kernel builds the headers: a connected socket in the sender's namespace
 * sending to the sink's socket on the capture end. IP_RECVERR is on (set by the addon), so a full
 * veth backlog comes back as ENOBUFS and the datagram is sent again instead of vanishing inside
 * udp_send_skb().
 */
import type { SendMethod, SendOpenContext } from '../core/send-method.js';
import type { SendMethodName } from '../core/send-config.js';
import { SenderSession, zerocopyProbe, type SendCall } from './sender-session.js';

interface UdpVariant {
  call: SendCall;
  gso: boolean;
  zerocopy: boolean;
}

function udpMethod<N extends SendMethodName>(
  name: N,
  { call, gso, zerocopy }: UdpVariant,
  summary: string,
): SendMethod & { readonly name: N } {
  return {
    name,
    summary,
    kind: 'udp',
    tiers: ['js', 'native'],
    probe: () => (zerocopy ? zerocopyProbe('udp-zerocopy') : { available: true }),
    ...(gso
      ? {
          datagramsPerUnit: (payload: number, c: { gsoSize: number }) =>
            Math.ceil(payload / c.gsoSize),
        }
      : {}),
    open: (ctx: SendOpenContext) =>
      new SenderSession(ctx, {
        kind: 'udp',
        call,
        zerocopy,
        gsoSize: gso ? ctx.config.gsoSize : 0,
      }),
  };
}

export const udpSend = udpMethod(
  'udp-send',
  { call: 'send', gso: false, zerocopy: false },
  'UDP socket, one send() per datagram',
);
export const udpSendmmsg = udpMethod(
  'udp-sendmmsg',
  { call: 'sendmmsg', gso: false, zerocopy: false },
  'UDP socket, sendmmsg() batches of --batch datagrams',
);
export const udpGso = udpMethod(
  'udp-gso',
  { call: 'send', gso: true, zerocopy: false },
  'UDP_SEGMENT: one send() of --payload bytes, cut by the kernel into --gso-size datagrams',
);
export const udpZerocopy = udpMethod(
  'udp-zerocopy',
  { call: 'send', gso: false, zerocopy: true },
  'UDP socket, MSG_ZEROCOPY sends; completions read from the error queue',
);
