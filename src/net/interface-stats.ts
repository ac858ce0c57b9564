/** Interfaces: whether one exists here, and its counters, read the same way on either side of a namespace boundary. */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../shared/errors.js';
import { run } from './ip-command.js';

/** Refuses an interface this namespace does not have, naming the ones it has. */
export function requireInterface(ifname: string): void {
  if (!existsSync(`/sys/class/net/${ifname}`)) {
    throw new UsageError(`no interface named ${ifname} (interfaces here: ${readdirSync('/sys/class/net').sort().join(', ')})`);
  }
}

export interface InterfaceCounters {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

interface IpLinkStats {
  stats64?: {
    rx: { packets: number; dropped: number };
    tx: { packets: number; dropped: number };
  };
}

/** Counters of `ifname`, inside `netns` when given (via `ip -n NS -s -j link`), else from sysfs. */
export async function readCounters(ifname: string, netns: string | null): Promise<InterfaceCounters> {
  if (netns === null) {
    const base = `/sys/class/net/${ifname}/statistics/`;
    const read = async (f: string): Promise<number> => Number((await readFile(base + f, 'utf8')).trim());
    const [rxPackets, rxDropped, txPackets, txDropped] = await Promise.all(
      ['rx_packets', 'rx_dropped', 'tx_packets', 'tx_dropped'].map(read),
    );
    return { rxPackets: rxPackets!, rxDropped: rxDropped!, txPackets: txPackets!, txDropped: txDropped! };
  }
  const out = await run('ip', ['-n', netns, '-s', '-j', 'link', 'show', 'dev', ifname]);
  const [link] = JSON.parse(out) as IpLinkStats[];
  const s = link?.stats64;
  if (!s) throw new Error(`ip -s -j link show ${ifname} returned no stats64`);
  return { rxPackets: s.rx.packets, rxDropped: s.rx.dropped, txPackets: s.tx.packets, txDropped: s.tx.dropped };
}

export function countersDelta(after: InterfaceCounters, before: InterfaceCounters): InterfaceCounters {
  return {
    rxPackets: after.rxPackets - before.rxPackets,
    rxDropped: after.rxDropped - before.rxDropped,
    txPackets: after.txPackets - before.txPackets,
    txDropped: after.txDropped - before.txDropped,
  };
}

/**
 * Frames dropped because a CPU's input backlog was full, machine-wide (/proc/net/softnet_stat,
 * second column, summed over CPUs). On veth such a drop is also counted as tx_dropped at the
 * sender and rx_dropped at the receiver, and the sender is told (ENOBUFS), so the generator sends
 * the frame again: it is backpressure, not loss.
 */
export async function readBacklogDrops(): Promise<number> {
  const text = await readFile('/proc/net/softnet_stat', 'utf8');
  return text
    .trim()
    .split('\n')
    .reduce((sum, line) => sum + parseInt(line.trim().split(/\s+/)[1] ?? '0', 16), 0);
}
