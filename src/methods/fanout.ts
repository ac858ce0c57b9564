/**
 * PACKET_FANOUT for the AF_PACKET methods (socket, socket-mmsg, packet-mmap): with --threads N
 * each reader thread's socket joins one fanout group on the capture interface, and the kernel
 * hands each frame to exactly one of them (net/packet/af_packet.c, packet_rcv_fanout), chosen by
 * --fanout: hash (the flow's hash: one flow always reaches the same reader), cpu (the CPU that
 * received it), lb (round robin) or qm (the receive queue it arrived on).
 */
import type { Availability, OpenContext } from '../core/method.js';
import type { FanoutMode } from '../native/binding.js';

/** Where a reader's socket joins: the first starts a group (0: the kernel picks a unique id). */
export function fanoutJoin(ctx: OpenContext): { mode: FanoutMode; group: number } | null {
  return ctx.reader === null ? null : { mode: ctx.fanout, group: ctx.reader.fanoutGroup };
}

/** Any number of sockets can join a group, on any interface AF_PACKET can bind. */
export function fanoutSpread(): Availability {
  return { available: true };
}
