/** Interfaces: whether one exists here, and its counters, read the same way on either side of a namespace boundary. */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../shared/errors.js';
import { run } from './ip-command.js';

/** Refuses an interface this namespace does not have, naming the ones it has. */
export function requireInterface(ifname: string): void {
  if (!existsSync(`/sys/class/net/${ifname}`)) {
    throw new UsageError(
      `no interface named ${ifname} (interfaces here: ${readdirSync('/sys/class/net').sort().join(', ')})`,
    );
  }
}

/**
 * An interface's counters, with the kernel's meanings (Documentation/networking/statistics.rst):
 * rx_dropped are frames the kernel got and then dropped (a full input backlog, no handler),
 * rx_missed_errors frames a NIC dropped for want of receive buffers before the kernel saw them
 * (/proc/net/dev folds them into "drop"), rx_errors frames received damaged (length, CRC,
 * framing); tx_dropped frames dropped on their way out, tx_errors frames the device failed to send.
 */
export interface InterfaceCounters {
  rxPackets: number;
  rxDropped: number;
  rxMissed: number;
  rxErrors: number;
  txPackets: number;
  txDropped: number;
  txErrors: number;
}

const FIELDS: Record<keyof InterfaceCounters, string> = {
  rxPackets: 'rx_packets',
  rxDropped: 'rx_dropped',
  rxMissed: 'rx_missed_errors',
  rxErrors: 'rx_errors',
  txPackets: 'tx_packets',
  txDropped: 'tx_dropped',
  txErrors: 'tx_errors',
};

interface IpLinkStats {
  stats64?: {
    rx: { packets: number; dropped: number; errors?: number; missed_errors?: number };
    tx: { packets: number; dropped: number; errors?: number };
  };
}

/** Counters of `ifname`, inside `netns` when given (via `ip -n NS -s -s -j link`), else from sysfs. */
export async function readCounters(
  ifname: string,
  netns: string | null,
): Promise<InterfaceCounters> {
  if (netns === null) {
    const base = `/sys/class/net/${ifname}/statistics/`;
    const keys = Object.keys(FIELDS) as (keyof InterfaceCounters)[];
    const values = await Promise.all(
      keys.map(async (k) => Number((await readFile(base + FIELDS[k], 'utf8')).trim())),
    );
    return Object.fromEntries(keys.map((k, i) => [k, values[i]!])) as unknown as InterfaceCounters;
  }
  const out = await run('ip', ['-n', netns, '-s', '-s', '-j', 'link', 'show', 'dev', ifname]);
  const [link] = JSON.parse(out) as IpLinkStats[];
  const s = link?.stats64;
  if (!s) throw new Error(`ip -s -j link show ${ifname} returned no stats64`);
  return {
    rxPackets: s.rx.packets,
    rxDropped: s.rx.dropped,
    rxMissed: s.rx.missed_errors ?? 0,
    rxErrors: s.rx.errors ?? 0,
    txPackets: s.tx.packets,
    txDropped: s.tx.dropped,
    txErrors: s.tx.errors ?? 0,
  };
}

export function countersDelta(
  after: InterfaceCounters,
  before: InterfaceCounters,
): InterfaceCounters {
  const keys = Object.keys(FIELDS) as (keyof InterfaceCounters)[];
  return Object.fromEntries(
    keys.map((k) => [k, after[k] - before[k]]),
  ) as unknown as InterfaceCounters;
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
