/**
 * Two-port mode (`--iface CAP --gen-iface GEN`): capbench's generator sends from one port and the
 * methods capture on another, the two cabled to each other (or two NICs on one hub). What cannot
 * work is refused here, before anything is sent, with one line saying what to change: capbench
 * reads the ports and never changes them. What the ports' counters mean follows from what
 * carries the frames between them (accounting.ts, LinkKind).
 */
import type { LinkKind } from './accounting.js';
import type { Machine } from './machine.js';
import { UsageError } from '../shared/errors.js';
import { destinations, mtuNeeded, type Fixture } from '../net/fixture.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** Refuses a pair of ports that cannot carry this fixture exactly; returns what links them. */
export async function checkTwoPort(
  cap: string,
  gen: string,
  fixture: Fixture,
  machine: Pick<Machine, 'requireInterface' | 'describePort'>,
): Promise<LinkKind> {
  if (gen === cap) {
    throw new UsageError(
      `--gen-iface ${gen} is the capture port too: two-port mode sends from one port to another (--iface CAP --gen-iface GEN)`,
    );
  }
  machine.requireInterface(cap);
  machine.requireInterface(gen);
  const [c, g] = await Promise.all([machine.describePort(cap), machine.describePort(gen)]);
  for (const [p, other] of [
    [g, cap],
    [c, gen],
  ] as const) {
    if (p.linkType === 'loopback')
      throw new UsageError(
        `${p.ifname} is a loopback: two-port mode needs two ports cabled to each other`,
      );
    if (!p.up)
      throw new UsageError(
        `${p.ifname} is down: bring it up first (ip link set dev ${p.ifname} up)`,
      );
    if (!p.carrier)
      throw new UsageError(
        `${p.ifname} has no carrier: is it cabled to ${other}, and is ${other} up?`,
      );
  }
  // The test bed raises its own MTU for big frames; a user's port is theirs to change.
  const need = mtuNeeded(fixture);
  for (const p of [g, c]) {
    if (p.mtu < need) {
      throw new UsageError(
        `${fixture.name}'s largest frame needs an MTU of ${need} and ${p.ifname} has ${p.mtu}: capbench does not change your ports (ip link set dev ${p.ifname} mtu ${need})`,
      );
    }
  }
  if (g.kind === 'veth') {
    // A veth's counters mean what they do because its peer receives inside its transmit.
    if (g.peer !== cap) {
      throw new UsageError(
        `${gen} is a veth whose peer is ${g.peer ?? 'in another namespace'}, not ${cap}: over veth, two-port mode needs the two ends of one pair`,
      );
    }
    return 'veth';
  }
  // A NIC drops frames for other addresses in hardware, before any counter or tap sees them.
  const foreign = destinations(fixture).filter((mac) => mac !== BROADCAST && mac !== c.mac);
  if (c.kind !== 'veth' && foreign.length > 0 && c.promiscuity === 0) {
    throw new UsageError(
      `${cap} takes only frames addressed to it (${c.mac}) and ${fixture.name}'s go to ${foreign.join(', ')}: turn on its promiscuous mode first (ip link set dev ${cap} promisc on)`,
    );
  }
  return 'wire';
}
