/**
 * What two-port mode needs to know about a port before it sends a frame: read with `ip -d -j
 * link`, never changed (a user's interface is theirs: capbench says what to change instead).
 */
import { run } from './ip-command.js';

export interface PortInfo {
  ifname: string;
  /** The link's kind as `ip -d link` names it ('veth', 'bridge', …); '' for a NIC, which has none. */
  kind: string;
  /** 'ether', 'loopback', …: the link type. */
  linkType: string;
  /** A veth's peer, by name, when it is in this namespace; else null. */
  peer: string | null;
  mtu: number;
  /** The port's own MAC address, lower case with colons. */
  mac: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** The link has carrier (IFF_LOWER_UP): for a NIC, the cable is in and the far end is up. */
  carrier: boolean;
  /** References to promiscuous mode (`ip -d link`'s promiscuity): above 0, frames to any address are taken. */
  promiscuity: number;
}

interface IpLinkDetail {
  ifname: string;
  link?: string;
  flags?: string[];
  mtu: number;
  link_type?: string;
  address?: string;
  promiscuity?: number;
  linkinfo?: { info_kind?: string };
}

export function portFromIpJson(json: string): PortInfo {
  const [l] = JSON.parse(json) as IpLinkDetail[];
  if (!l) throw new Error('ip -d -j link show returned no link');
  const flags = l.flags ?? [];
  const kind = l.linkinfo?.info_kind ?? '';
  return {
    ifname: l.ifname,
    kind,
    linkType: l.link_type ?? '',
    peer: kind === 'veth' ? (l.link ?? null) : null,
    mtu: l.mtu,
    mac: (l.address ?? '').toLowerCase(),
    up: flags.includes('UP'),
    carrier: flags.includes('LOWER_UP'),
    promiscuity: l.promiscuity ?? 0,
  };
}

/** The port `ifname` of this namespace, as PortInfo. */
export async function describePort(ifname: string): Promise<PortInfo> {
  return portFromIpJson(await run('ip', ['-d', '-j', 'link', 'show', 'dev', ifname]));
}
