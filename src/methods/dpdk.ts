/**
 * dpdk: DPDK's poll-mode drivers through the same counter. One port is read with
 * rte_eth_rx_burst: on the test bed and with --iface a virtual device on the kernel interface
 * (--dpdk-pmd af_packet, a TPACKET ring the PMD copies out of into mbufs; or af_xdp, an AF_XDP
 * socket whose UMEM is the mbufs' memory), with --dpdk-port a PCI NIC bound to vfio-pci. Both
 * tiers read frames where the PMD left them: js through the mbufs' memory as one external
 * ArrayBuffer and (offset, length) pairs per burst, native in C.
 *
 * DPDK polls: a reader never sleeps, so in live mode its CPU time is the whole window however
 * few frames arrive, and that is what the row reports.
 *
 * The EAL can start once per process and not again after it is cleaned up: it starts at the
 * first session and is cleaned up by release(), at the end of the run (src/native/dpdk/).
 */
import { existsSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { Step } from '../core/consume-loop.js';
import {
  availability,
  type CaptureMethod,
  type MethodOptions,
  type OpenContext,
  type SessionStats,
} from '../core/method.js';
import { optionValue, type MethodOption } from '../core/method-options.js';
import { native, type NativeCount } from '../native/binding.js';
import { forgetXdpAttach, recordXdpAttach } from '../net/xdp-leftovers.js';
import { fromNative, UsageError } from '../shared/errors.js';
import { SteppedSession } from './stepped-session.js';
import { interfaceDropsSince, readNumber, withoutInterfaceDrops } from './xdp-redirect-drops.js';

/** The most frames one step takes (CB_DPDK_MAX_TAKE in dpdk_port.h). */
const MAX_TAKE = 512;
/**
 * af_packet's kernel ring at most, in 2 KiB frames: 1 GiB. The PMD maps its RX ring and a TX ring
 * of the same size in one mmap whose length it computes in 32 bits, so 4 GiB of both fails.
 */
const AF_PACKET_MAX_FRAMES = 2 ** 19;
/** What af_packet's ring keeps beyond a drain (AF_PACKET_LIVE_FRAMES in dpdk_port.c). */
const AF_PACKET_SLACK = 16384;
/**
 * What af_xdp's PMD puts in each queue's fill ring when it starts (half the ring, its own
 * constant): the frames that can land before the reader polls. Nothing lets a caller size it.
 */
const AF_XDP_HOLD_PER_QUEUE = 2048;
/** Copy mode on veth runs in the sender's softirq: frames are in the ring once the sender is done. */
const AF_XDP_SETTLE_MS = 10;

declare module '../native/binding.js' {
  interface NativeBinding {
    DpdkPort: new (options: DpdkPortOptions) => DpdkPort;
    /** Whether DPDK is compiled in and its EAL can still start in this process. */
    dpdkProbe(): LibraryProbe;
    /** Every port removed and the EAL cleaned up, for good in this process. */
    dpdkRelease(): void;
  }
}

interface DpdkPortOptions {
  ifname: string;
  pmd: Pmd;
  /** A PCI address, or '' for a vdev on ifname. */
  pci: string;
  holdFrames: number;
}

interface DpdkPort {
  /** The mbufs' memory, where `next`'s pairs point; detached by close(). */
  readonly mbufs: ArrayBuffer;
  /** af_xdp: the XDP program the PMD attached (by netlink: it outlives a crash); 0 for none. */
  readonly progId: number;
  /**
   * Frees the previous call's mbufs, then takes up to maxFrames (≤ 512) as (offset in `mbufs`,
   * length) pairs, polling up to timeoutMs when none is ready.
   */
  next(table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  /** Frames the kernel handed to the port, drops included, or -1 where it cannot tell (af_xdp). */
  stats(): { seen: number; drops: number };
  close(): void;
}

const PMDS = ['af_packet', 'af_xdp'] as const;
type Pmd = (typeof PMDS)[number];

const PMD: MethodOption<string> = {
  name: 'dpdk-pmd',
  arg: '<pmd>',
  help: `dpdk: the poll-mode driver on the capture interface: ${PMDS.join(' or ')} (a vdev on it)`,
  default: 'af_packet',
  parse: (value) => {
    if (!(PMDS as readonly string[]).includes(value))
      throw new UsageError(`--dpdk-pmd ${value}: no such PMD here (${PMDS.join(', ')})`);
    return value;
  },
};

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

const PORT: MethodOption<string | null> = {
  name: 'dpdk-port',
  arg: '<pci>',
  help: 'dpdk: read this PCI NIC (0000:03:00.0), bound to vfio-pci, instead of a vdev on --iface',
  default: null,
  parse: (value) => {
    if (!PCI_ADDRESS.test(value))
      throw new UsageError(`--dpdk-port ${value}: not a PCI address (like 0000:03:00.0)`);
    return value;
  },
};

function pmdOf(values: MethodOptions['values']): Pmd {
  return optionValue(values, PMD) as Pmd;
}

/** Refuses a --dpdk-port this machine does not have bound to vfio-pci, saying how to bind it. */
function checkPort(pci: string, iface: string | null): void {
  if (iface === null) {
    throw new UsageError(
      `--dpdk-port ${pci}: a PCI port is for --iface runs (the test bed is veth, which only vdevs read)`,
    );
  }
  const dev = `/sys/bus/pci/devices/${pci}`;
  if (!existsSync(dev)) throw new UsageError(`--dpdk-port ${pci}: no such PCI device here`);
  const driver = existsSync(`${dev}/driver`) ? basename(readlinkSync(`${dev}/driver`)) : 'none';
  if (driver !== 'vfio-pci') {
    throw new UsageError(
      `--dpdk-port ${pci}: bound to ${driver}, not vfio-pci (dpdk-devbind.py --bind=vfio-pci ${pci})`,
    );
  }
}

class DpdkSession extends SteppedSession {
  readonly settleMs: number;
  private readonly port: DpdkPort;
  private stateFile: string | null = null;
  /** af_xdp: its socket's drops less those veth already counted (xdp-redirect-drops.ts). */
  private readonly adjust: (s: SessionStats) => SessionStats;
  protected readonly step: Step;

  constructor(ctx: OpenContext) {
    super();
    const pmd = pmdOf(ctx.values);
    const pci = optionValue(ctx.values, PORT) ?? '';
    const xdp = pmd === 'af_xdp' && pci === '';
    this.settleMs = xdp ? AF_XDP_SETTLE_MS : 0;
    const ifDrops = xdp ? interfaceDropsSince(ctx.ifname) : null;
    this.adjust = ifDrops === null ? (s) => s : (s) => withoutInterfaceDrops(s, ifDrops());
    try {
      this.port = new (native().DpdkPort)({
        ifname: ctx.ifname,
        pmd,
        pci,
        holdFrames: ctx.holdFrames,
      });
    } catch (err) {
      throw fromNative(err, `open DPDK's ${pci || pmd} port on ${ctx.ifname}`);
    }
    const port = this.port;
    try {
      // Attached by netlink, the PMD's program would outlive a crash: recorded for a later run.
      if (port.progId !== 0) {
        this.stateFile = recordXdpAttach({
          ifindex: readNumber(`/sys/class/net/${ctx.ifname}/ifindex`) ?? 0,
          ifname: ctx.ifname,
          progId: port.progId,
          attach: 'netlink',
        });
      }
    } catch (err) {
      port.close();
      throw err;
    }
    this.step =
      ctx.tier === 'native'
        ? this.nativeStep((max, slice, idle) => port.consumeNative(max, slice, idle))
        : this.jsStep(ctx);
  }

  private jsStep(ctx: OpenContext): Step {
    const view = new Uint8Array(this.port.mbufs);
    const table = new Uint32Array(2 * MAX_TAKE);
    const latency = ctx.latency;
    return (max, waitMs) => {
      const n = this.port.next(table, Math.min(MAX_TAKE, max), waitMs);
      return this.countPairs(view, table, n, latency);
    };
  }

  stats(): SessionStats {
    const s = this.port.stats();
    // A poll-mode driver makes no calls worth counting: rx bursts are function calls.
    return this.adjust({
      seen: s.seen < 0 ? null : s.seen,
      drops: s.drops,
      calls: null,
      wakeups: null,
    });
  }

  close(): void {
    this.port.close();
    if (this.stateFile !== null) forgetXdpAttach(this.stateFile);
    this.stateFile = null;
  }
}

export const dpdk = {
  name: 'dpdk',
  summary:
    "DPDK's poll-mode drivers (af_packet or af_xdp vdev, or a vfio-pci NIC): rte_eth_rx_burst, frames read in the mbufs",
  tiers: ['js', 'native'],
  options: [PMD, PORT],
  variant: (values) => optionValue(values, PORT) ?? pmdOf(values),
  probe: () => availability(native().dpdkProbe()),
  checkOptions(options, iface) {
    const pci = optionValue(options.values, PORT);
    if (pci !== null) checkPort(pci, iface);
  },
  maxHoldFrames: (_frameBytes, options) =>
    pmdOf(options.values) === 'af_xdp'
      ? AF_XDP_HOLD_PER_QUEUE * Math.max(1, options.testbedQueues)
      : AF_PACKET_MAX_FRAMES - AF_PACKET_SLACK,
  open: (ctx) => new DpdkSession(ctx),
  release: () => native().dpdkRelease(),
} satisfies CaptureMethod;
