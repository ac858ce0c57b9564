/**
 * What the test bed needs beyond capture for `capbench send`. Capture keeps it silent and bare:
 * ARP off and segmentation offloads off on the capture end (testbed.ts). Sockets that let the
 * kernel build headers (UDP, TCP) need a neighbour for their destination without ARP, and TCP its
 * peer's for the ACKs: static entries both ways, made once per test bed. TSO and GSO stay on at
 * the sender's end (veth's default) where TCP and UDP_SEGMENT use them. In two-port mode the
 * ports are the user's and only frames are sent: nothing is set, the header says what was found.
 */
import { readFileSync } from 'node:fs';
import { ip, run } from './ip-command.js';
import type { Testbed } from './testbed.js';

/** Two-port mode's ports, both in capbench's namespace: GEN sends, the sink reads CAP. */
export interface SendPorts {
  cap: string;
  gen: string;
}

/** What `send`'s header says about the test bed, or about two-port mode's ports. */
export interface SendBedSettings {
  /** static: the test bed's entries both ways; none: two-port mode, which sends only frames. */
  neighbours: 'static' | 'none';
  /** The sender end's offloads, as ethtool reports them after setting. */
  senderOffloads: { tso: boolean; gso: boolean };
  /** The capture end's, where the sink reads. */
  captureOffloads: { tso: boolean; gso: boolean; gro: boolean };
}

/** A locally administered unicast MAC no interface here has. */
const NOBODY_MAC = '02:00:00:00:00:01';

function macOf(ifname: string): string {
  return readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
}

async function senderMac(tb: Testbed): Promise<string> {
  const out = await ip('-n', tb.netns, '-j', 'link', 'show', 'dev', tb.senderIf);
  const [link] = JSON.parse(out) as { address?: string }[];
  if (!link?.address) throw new Error(`ip link show ${tb.senderIf}: no address`);
  return link.address;
}

async function offloads(ifname: string, netns: string | null): Promise<Map<string, boolean>> {
  const args = ['-k', ifname];
  const out = netns
    ? await run('ip', ['netns', 'exec', netns, 'ethtool', ...args])
    : await run('ethtool', args);
  const map = new Map<string, boolean>();
  for (const m of out.matchAll(/^([a-z-]+): (on|off)/gm)) map.set(m[1]!, m[2] === 'on');
  return map;
}

/** A permanent neighbour entry: `netns` null for this namespace. */
function neighbour(netns: string | null, addr: string, mac: string, dev: string): Promise<string> {
  const where = netns === null ? [] : ['-n', netns];
  return ip(...where, 'neigh', 'replace', addr, 'lladdr', mac, 'dev', dev, 'nud', 'permanent');
}

/** Two ports' offloads as they are: capbench changes neither. */
async function describePorts(ports: SendPorts): Promise<SendBedSettings> {
  const [sender, capture] = await Promise.all([
    offloads(ports.gen, null),
    offloads(ports.cap, null),
  ]);
  return settings('none', sender, capture);
}

function settings(
  neighbours: SendBedSettings['neighbours'],
  sender: Map<string, boolean>,
  capture: Map<string, boolean>,
): SendBedSettings {
  return {
    neighbours,
    senderOffloads: {
      tso: sender.get('tcp-segmentation-offload') ?? false,
      gso: sender.get('generic-segmentation-offload') ?? false,
    },
    captureOffloads: {
      tso: capture.get('tcp-segmentation-offload') ?? false,
      gso: capture.get('generic-segmentation-offload') ?? false,
      gro: capture.get('generic-receive-offload') ?? false,
    },
  };
}

/** Readies the test bed for `send` (above); two-port mode's ports are described, not changed. */
export async function prepareSendTestbed(bed: Testbed | SendPorts): Promise<SendBedSettings> {
  if (!('netns' in bed)) return describePorts(bed);
  const tb = bed;
  await neighbour(tb.netns, tb.captureAddr, macOf(tb.captureIf), tb.senderIf);
  await neighbour(null, tb.senderAddr, await senderMac(tb), tb.captureIf);
  // The twin's far end must drop what it gets before IP: a neighbour with a MAC nobody has.
  await neighbour(tb.netns, tb.twinCaptureAddr, NOBODY_MAC, tb.twinSenderIf);
  for (const dev of [tb.senderIf, tb.twinSenderIf])
    await run('ip', ['netns', 'exec', tb.netns, 'ethtool', '-K', dev, 'tso', 'on', 'gso', 'on']);
  return settings(
    'static',
    await offloads(tb.senderIf, tb.netns),
    await offloads(tb.captureIf, null),
  );
}
