/**
 * The self-contained test bed: a network namespace for the generator and a veth pair into it,
 * addressed from the benchmarking range 198.18.0.0/15. Names carry the owning process id, so a
 * second run gets its own names and a later run can tell a crashed run's leftovers (owner dead)
 * from a live run's test bed. `env up` makes a persistent one (owner 0) that only `env down`
 * removes.
 *
 * Everything here is made silent: no IPv6 (which would send router solicitations and MLD reports
 * when the link comes up), no ARP replies, so the capture side sees exactly what the generator
 * sends.
 *
 * A second pair, the twin, is set up the same way and never captured on: a drain's fill sends the
 * same frames into it from a second generator thread on the same CPU, so the kernel's cost of
 * delivering into the captured pair can be told from what the same frames cost with nothing
 * attached, measured at the same moment (see fill() in core/window.ts).
 *
 * With `queues` > 1 every veth end gets that many TX and RX queues, so multi-core capture has
 * something to spread over: veth hands a frame sent on TX queue i to its peer's RX queue i (the
 * af-xdp socket bound to queue i, the NAPI instance of queue i), and the generator picks the TX
 * queue by the CPU it sends from (see net/generator.ts).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../shared/errors.js';
import { ip, run, runSync } from './ip-command.js';
import { rxQueueCount } from './nic-queues.js';

export interface Testbed {
  /** e.g. "capbench-1a2b3xyz"; the generator's side lives here. */
  netns: string;
  netnsPath: string;
  /** veth end in our namespace, where methods capture. */
  captureIf: string;
  /** veth end inside netns, where the generator sends. */
  senderIf: string;
  /** The twin pair: the same set-up, nothing ever attached to its capture end. */
  twinCaptureIf: string;
  twinSenderIf: string;
  captureAddr: string;
  senderAddr: string;
  /** The twin pair's addresses (the next /30). */
  twinCaptureAddr: string;
  twinSenderAddr: string;
  /** Owning process id; 0 for a persistent (`env up`) test bed. */
  owner: number;
  /** TX and RX queues of every veth end, both pairs alike. */
  queues: number;
}

export interface TestbedOptions {
  /** Made by `env up`: outlives this process until `env down`. */
  persistent?: boolean;
  /** TX and RX queues per veth end; default 1. */
  queues?: number;
}

const NETNS_PREFIX = 'capbench-';
const NETNS_DIR = '/run/netns';
/** tag = owner pid in base 36, then 3 random base-36 characters: at most 8 characters. */
const TAG_RE = /^([0-9a-z]{1,5})([0-9a-z]{3})$/;

function namesFor(
  tag: string,
): Pick<
  Testbed,
  'netns' | 'netnsPath' | 'captureIf' | 'senderIf' | 'twinCaptureIf' | 'twinSenderIf'
> {
  // Interface names are limited to 15 characters: "cb" + 8 + "ct" is 12. The twin's names do not
  // end in "c", so listTestbeds never takes them for a capture end.
  return {
    netns: NETNS_PREFIX + tag,
    netnsPath: `${NETNS_DIR}/${NETNS_PREFIX}${tag}`,
    captureIf: `cb${tag}c`,
    senderIf: `cb${tag}g`,
    twinCaptureIf: `cb${tag}ct`,
    twinSenderIf: `cb${tag}gt`,
  };
}

/**
 * Two /30s (the pair's, then the twin's) out of 198.18.0.0/15 chosen from the tag, so concurrent
 * test beds rarely share one.
 */
function addressesFor(
  tag: string,
): Pick<Testbed, 'captureAddr' | 'senderAddr' | 'twinCaptureAddr' | 'twinSenderAddr'> {
  let h = 0;
  for (const ch of tag) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const base = (198 << 24) + (18 << 16) + ((h % (1 << 14)) << 3);
  const dotted = (n: number): string =>
    [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return {
    captureAddr: dotted(base + 1),
    senderAddr: dotted(base + 2),
    twinCaptureAddr: dotted(base + 5),
    twinSenderAddr: dotted(base + 6),
  };
}

function randomSuffix(): string {
  return Array.from(randomBytes(3), (b) => (b % 36).toString(36)).join('');
}

const live = new Set<Testbed>();

/**
 * Far above any CPU count this project meets (the kernel allows 4096 per device); every queue
 * costs a ring and a NAPI context once XDP is attached, so a typo should not ask for thousands.
 */
export const MAX_QUEUES = 256;

function checkQueues(queues: number): number {
  if (!Number.isInteger(queues) || queues < 1 || queues > MAX_QUEUES) {
    throw new UsageError(`test bed queues must be an integer 1..${MAX_QUEUES}, got ${queues}`);
  }
  return queues;
}

export async function createTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const owner = options.persistent ? 0 : process.pid;
  const queues = checkQueues(options.queues ?? 1);
  const tag = owner.toString(36) + randomSuffix();
  const tb: Testbed = { ...namesFor(tag), ...addressesFor(tag), owner, queues };
  live.add(tb);
  try {
    await ip('netns', 'add', tb.netns);
    // `default` for the sender ends created below, `all` for what the namespace already has.
    await run('ip', [
      'netns',
      'exec',
      tb.netns,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await addSilentPair(tb, tb.captureIf, tb.senderIf, tb.captureAddr, tb.senderAddr);
    await addSilentPair(
      tb,
      tb.twinCaptureIf,
      tb.twinSenderIf,
      tb.twinCaptureAddr,
      tb.twinSenderAddr,
    );
    // A persistent test bed outlives this process: only `env down` removes it.
    if (owner === 0) live.delete(tb);
    return tb;
  } catch (err) {
    await destroyTestbed(tb);
    throw err;
  }
}

/**
 * Both ends get the same count: veth refuses native XDP on an end with fewer RX queues than its
 * peer has TX queues ("XDP expects number of rx queues not less than peer tx queues"), and a TX
 * queue without an RX queue of the same index on the peer would bypass that queue's NAPI.
 */
function queueArgs(queues: number): string[] {
  return ['numtxqueues', String(queues), 'numrxqueues', String(queues)];
}

/** A veth pair from here into tb's namespace, silenced and up. */
async function addSilentPair(
  tb: Testbed,
  captureIf: string,
  senderIf: string,
  captureAddr: string,
  senderAddr: string,
): Promise<void> {
  const q = queueArgs(tb.queues);
  await ip(
    'link',
    'add',
    captureIf,
    ...q,
    'type',
    'veth',
    'peer',
    'name',
    senderIf,
    ...q,
    'netns',
    tb.netns,
  );
  writeFileSync(`/proc/sys/net/ipv6/conf/${captureIf}/disable_ipv6`, '1');
  await ip('link', 'set', 'dev', captureIf, 'addrgenmode', 'none', 'arp', 'off');
  await ip('-n', tb.netns, 'link', 'set', 'dev', senderIf, 'addrgenmode', 'none', 'arp', 'off');
  // libpcap sizes its ring frames by the MTU only when the interface has no segmentation
  // offloads; with veth's defaults it reserves 64 KiB per frame and a ring holds almost nothing.
  await run('ethtool', ['-K', captureIf, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  await ip('addr', 'add', `${captureAddr}/30`, 'dev', captureIf);
  await ip('-n', tb.netns, 'addr', 'add', `${senderAddr}/30`, 'dev', senderIf);
  await ip('-n', tb.netns, 'link', 'set', 'dev', senderIf, 'up');
  await ip('link', 'set', 'dev', captureIf, 'up');
}

/** veth's MTU when created, and the Ethernet header a frame carries on top of its MTU. */
const DEFAULT_MTU = 1500;
const ETH_HLEN = 14;

/**
 * Sets both pairs' MTU so that frames of `frameBytes` fit, and back to the default when they fit
 * in it: a fixture of jumbo frames would otherwise fail in the generator with EMSGSIZE (veth
 * takes up to 64 KiB; af-xdp's XDP program refuses MTUs above a page and says so in its row).
 */
export async function fitFrames(tb: Testbed, frameBytes: number): Promise<void> {
  const mtu = Math.max(DEFAULT_MTU, frameBytes - ETH_HLEN);
  if ((mtus.get(tb) ?? DEFAULT_MTU) === mtu) return;
  await ip('link', 'set', 'dev', tb.captureIf, 'mtu', String(mtu));
  await ip('link', 'set', 'dev', tb.twinCaptureIf, 'mtu', String(mtu));
  await ip('-n', tb.netns, 'link', 'set', 'dev', tb.senderIf, 'mtu', String(mtu));
  await ip('-n', tb.netns, 'link', 'set', 'dev', tb.twinSenderIf, 'mtu', String(mtu));
  mtus.set(tb, mtu);
}

/** The MTU fitFrames() last set, per test bed of this process. */
const mtus = new WeakMap<Testbed, number>();

/** Removes the namespace (which takes the veth pairs with it) and any capture end that survived. */
export async function destroyTestbed(tb: Testbed): Promise<void> {
  live.delete(tb);
  if (existsSync(tb.netnsPath)) await ip('netns', 'del', tb.netns).catch(() => undefined);
  for (const ifname of [tb.captureIf, tb.twinCaptureIf]) {
    if (existsSync(`/sys/class/net/${ifname}`))
      await ip('link', 'del', ifname).catch(() => undefined);
  }
}

/** Last-resort cleanup from process.on('exit'), where only synchronous work runs. */
export function destroyAllSync(): void {
  for (const tb of live) {
    live.delete(tb);
    try {
      if (existsSync(tb.netnsPath)) runSync('ip', ['netns', 'del', tb.netns]);
      for (const ifname of [tb.captureIf, tb.twinCaptureIf]) {
        if (existsSync(`/sys/class/net/${ifname}`)) runSync('ip', ['link', 'del', ifname]);
      }
    } catch {
      // Nothing more can be done on the way out; the next run's sweep will find it.
    }
  }
}

function ownerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every capbench test bed on this machine, whoever owns it. */
export function listTestbeds(): Testbed[] {
  const tags = new Set<string>();
  if (existsSync(NETNS_DIR)) {
    for (const name of readdirSync(NETNS_DIR)) {
      if (name.startsWith(NETNS_PREFIX)) tags.add(name.slice(NETNS_PREFIX.length));
    }
  }
  // A capture end whose namespace is gone (rare: deleted by hand) is still ours to sweep.
  for (const name of readdirSync('/sys/class/net')) {
    const m = /^cb([0-9a-z]{4,8})ct?$/.exec(name);
    if (m) tags.add(m[1]!);
  }
  const beds: Testbed[] = [];
  for (const tag of tags) {
    const m = TAG_RE.exec(tag);
    if (!m) continue;
    const names = namesFor(tag);
    beds.push({
      ...names,
      ...addressesFor(tag),
      owner: parseInt(m[1]!, 36),
      queues: rxQueueCount(names.captureIf) ?? 1,
    });
  }
  return beds;
}

export function isStale(tb: Testbed): boolean {
  return tb.owner !== 0 && !ownerAlive(tb.owner);
}

/** Removes test beds whose owning run has died; returns what it removed. */
export async function sweepStale(): Promise<Testbed[]> {
  const stale = listTestbeds().filter(isStale);
  for (const tb of stale) await destroyTestbed(tb);
  return stale;
}
