/**
 * The addon's surface, typed. Everything native goes through this one module so the rest of the
 * code never touches `require` or guesses at shapes.
 *
 * Conventions shared by every capture handle:
 * - A "table" is a Uint32Array of (offset, length) pairs, one pair per frame, describing where each
 *   frame sits in the buffer handed over with it. Frames are in wire layout: a VLAN tag the kernel
 *   moved into metadata is put back, so bytes 12-13 read what was on the wire.
 * - Timeouts are in milliseconds. A call that waits does so in poll(), never spinning.
 * - Native-tier calls (`consumeNative`) run the method's own loop and the C counter in the addon,
 *   returning after `maxFrames` frames, after `sliceMs` of running, or after `idleMs` with
 *   nothing arriving, whichever comes first, so that JS can look at signals between slices.
 * - Failures throw an Error whose message is "context: strerror" with `errno` and `context` set.
 */
import { createRequire } from 'node:module';
import { SystemError } from '../shared/errors.js';

export interface NativeCount {
  received: number;
  ipv4: number;
  /** Takes that brought frames: batches, blocks, peeks (the unit the mechanism hands frames over in). */
  takes: number;
}

/**
 * How a PACKET_FANOUT group shares frames among its sockets (each frame goes to exactly one):
 * - `hash`: by the flow's symmetric hash, so a flow stays on one socket; a single-flow fixture
 *   (udp64) all goes to one socket.
 * - `lb`: round robin, frame by frame: the only mode that splits one sender thread's one flow.
 * - `cpu`: by the CPU the frame is received on. On veth that is the sender's CPU, so one sender
 *   thread feeds one socket.
 * - `qm`: by the receive queue the frame was recorded on. On veth that is the sender's TX queue:
 *   with one queue everything goes to one socket; with more, the queue follows the sender's CPU.
 * No rollover: a frame goes where the mode says even when that socket is full, and counts as a
 * drop in that socket's statistics.
 */
export type FanoutMode = 'hash' | 'cpu' | 'lb' | 'qm';

/**
 * A PACKET_FANOUT group for a capture socket to join once it is bound. Sockets of one group share
 * one interface and one mode; PACKET_STATISTICS stay per socket. Frames that arrive between a
 * socket's bind and its join reach it outside the group (as well as the group): open every
 * member before traffic starts.
 */
export interface FanoutOptions {
  mode: FanoutMode;
  /**
   * 0: a new group, with an id the kernel picks so no other group in this network namespace has
   * it (read it back from `fanoutGroup`; never 0). 1..65535: join that group, creating it if it
   * does not exist. Joining a group of another mode or interface throws EINVAL.
   */
  group: number;
}

export interface PacketSocketOptions {
  ifname: string;
  /** SO_RCVBUFFORCE bytes; 0 leaves the default. */
  rcvbufBytes: number;
  /** Join a PACKET_FANOUT group after binding; absent or null: no group. */
  fanout?: FanoutOptions | null;
}

export interface ThreadUsage {
  userNs: number;
  sysNs: number;
  totalNs: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  minorFaults: number;
}

/**
 * What a capture handle has asked of the kernel since open, in both tiers (the C core counts them
 * where it makes them): system calls (receive calls, poll() waits, wake-up kicks; for a libpcap
 * handle, its calls into libpcap and its waits) and the waits that woke to frames.
 */
export interface KernelCalls {
  calls: number;
  wakeups: number;
}

export interface PacketSocketStats extends KernelCalls {
  /**
   * PACKET_STATISTICS tp_packets, accumulated since open (the kernel resets on each read). The
   * kernel adds tp_drops into it: frames delivered to the socket are packets − drops.
   */
  packets: number;
  /** PACKET_STATISTICS tp_drops, accumulated since open. */
  drops: number;
}

/** AF_PACKET SOCK_RAW bound to one interface, ETH_P_ALL, outgoing frames ignored. */
export interface PacketSocket {
  /** The PACKET_FANOUT group id this socket is in, as the kernel reports it; 0 in none or closed. */
  readonly fanoutGroup: number;
  /** One recvmsg(); frame in buf, [offset, length] in table[0..1]. 1, or 0 after timeoutMs idle. */
  recvOne(buf: Uint8Array, table: Uint32Array, timeoutMs: number): number;
  /** One recvmmsg() of up to maxFrames; slot i starts at i * floor(buf.length / maxFrames). */
  recvBatch(buf: Uint8Array, table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  /** batch 1 = recv() per frame, > 1 = recvmmsg() batches of that size. */
  consumeNative(maxFrames: number, batch: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): PacketSocketStats;
  close(): void;
}

export interface PcapOptions {
  ifname: string;
  snaplen: number;
  /** pcap_set_buffer_size bytes (the TPACKET ring libpcap builds). */
  bufferBytes: number;
  /** pcap_set_timeout: also the ring's block retire timeout on Linux. */
  timeoutMs: number;
  immediate: boolean;
}

export interface PcapStats extends KernelCalls {
  /** pcap_stats ps_recv, ps_drop, ps_ifdrop as reported by libpcap. */
  received: number;
  dropped: number;
  ifDropped: number;
}

/** libpcap handle (libpcap is loaded with dlopen, so the addon works where it is absent). */
export interface PcapHandle {
  /** pcap_dispatch(); libpcap hands its ring back before returning, so frames are copied to slots. */
  dispatch(buf: Uint8Array, table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): PcapStats;
  close(): void;
}

export interface LibraryProbe {
  available: boolean;
  /** Why not, when not available. */
  reason: string;
  /** pcap_lib_version() when available. */
  version: string;
}

export type GeneratorEngine = 'sendmmsg' | 'tx-ring';

export interface GeneratorOptions {
  /** Path of a network namespace to join with setns() ("/run/netns/NAME"), or null for ours. */
  netnsPath: string | null;
  ifname: string;
  /** The fixture's frames, back to back. */
  frames: Uint8Array;
  frameLengths: Uint32Array;
  /** Frames to send, round-robin over the fixture; 0 = until duration or stop(). */
  count: number;
  /** 0 = until count or stop(). */
  durationMs: number;
  /** Offered rate; 0 = flat out. */
  ratePps: number;
  batch: number;
  /** CPU to pin the generator thread to; -1 = any CPU but the one reserveCpu reserved. */
  cpu: number;
  engine: GeneratorEngine;
  /**
   * Write each frame's send time (CLOCK_MONOTONIC ns, little-endian u64, taken once per batch)
   * into its last 8 bytes, for send-to-counter latency. Bytes 0-13 are never touched.
   */
  stamp?: boolean;
}

export interface GeneratorStatus {
  running: boolean;
  /** Frames the kernel accepted from the generator's socket. Exact. */
  sent: number;
  /** From the first send to the last (or to now while running). */
  elapsedNs: number;
  /**
   * The generator thread's CPU time (CLOCK_THREAD_CPUTIME_ID) while it sent, in ns; 0 until it has
   * stopped. Includes the softirq work its sends trigger on its CPU, which on veth is the receive
   * side's delivery.
   */
  cpuNs: number;
  /** Set when the thread stopped on an error (message as for thrown errors). */
  error: string | null;
}

export interface Generator {
  /** Starts the thread; returns once it has joined the namespace and bound, throws if that failed. */
  start(): void;
  status(): GeneratorStatus;
  /** Asks the thread to stop, joins it, returns the final status. Idempotent. */
  stop(): GeneratorStatus;
}

export interface PacketMmapOptions {
  ifname: string;
  /** tp_block_size: a power of two, a multiple of the page size. */
  blockBytes: number;
  /** tp_block_nr. */
  blockCount: number;
  /** tp_retire_blk_tov: a block is handed over this long after its first frame even if not full. */
  retireMs: number;
  /** Join a PACKET_FANOUT group once the ring is set up and the socket bound; absent or null: none. */
  fanout?: FanoutOptions | null;
}

export interface PacketMmapStats extends KernelCalls {
  /** PACKET_STATISTICS (tpacket_stats_v3), accumulated since open. */
  packets: number;
  drops: number;
  freezes: number;
}

/**
 * PACKET_RX_RING with TPACKET_V3 on an AF_PACKET socket. `ring` is the mapped ring itself as an
 * external ArrayBuffer: JS reads frames, and the kernel's per-frame headers, where the kernel
 * wrote them. close() detaches it before unmapping.
 */
export interface PacketMmapRing {
  readonly ring: ArrayBuffer;
  /** The PACKET_FANOUT group id this socket is in, as the kernel reports it; 0 in none or closed. */
  readonly fanoutGroup: number;
  /**
   * One call per block: hands the block of the previous call back to the kernel, then waits up
   * to timeoutMs for the next retired block and returns its byte offset in `ring`, or -1 when
   * none is ready. The block (its tpacket_block_desc, then its frames) is the reader's until the
   * next call, consumeNative or close; the kernel has finished writing it.
   */
  nextBlock(timeoutMs: number): number;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): PacketMmapStats;
  close(): void;
}

export interface AfXdpOptions {
  ifname: string;
  queue: number;
  /** UMEM frames (chunks); the fill ring is kept as full as they allow. */
  frameCount: number;
  /** UMEM chunk size: 2048 or 4096. */
  frameBytes: number;
  /** rx and fill ring sizes, powers of two. */
  ringSize: number;
  /** rx descriptors per peek in both tiers: the most one receive() hands over (1..4096). */
  batch: number;
  /** XDP_ZEROCOPY; fails with a clear error where the driver has no zero-copy (veth). */
  zeroCopy: boolean;
}

export interface AfXdpStats extends KernelCalls {
  /** Descriptors the kernel has put on the rx ring since open. */
  rxProduced: number;
  /** XDP_STATISTICS, accumulated since open. */
  rxDropped: number;
  rxInvalid: number;
  rxRingFull: number;
  fillRingEmpty: number;
}

/**
 * An AF_XDP socket on one queue with the XDP redirect program attached in driver (native) mode.
 * `umem` is the UMEM as an external ArrayBuffer; ring handling (fill, rx) stays in C because JS has
 * no memory barriers for memory shared with the kernel.
 */
export interface AfXdpSocket {
  readonly umem: ArrayBuffer;
  /** The redirect program this socket attached, and how (a BPF link dies with the process). */
  readonly progId: number;
  readonly attachMode: 'link' | 'netlink';
  /**
   * One call per batch: gives the frames of the previous receive() back to the kernel, then
   * writes up to min(maxFrames, batch) received frames as (offset into `umem`, length) pairs into
   * table and returns how many; 0 after timeoutMs idle. The frames stay readable until the next
   * receive() or close().
   */
  receive(table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): AfXdpStats;
  /** Closes the socket, detaches the XDP program it attached, frees the UMEM. Idempotent. */
  close(): void;
}

/**
 * READ: one read() per frame. RING: the module copies frames into slots of a ring this process
 * maps. ZC ("mode 3", zero-copy): the NIC writes frames into those slots itself; read exactly as
 * RING (`ring`, `nextSlots`, `releaseSlots`), with the geometry the module gives (a page per slot,
 * never FASTNET_SLOT_SIZE). Only a NIC whose driver has fastnet's hook (capbench's patched e1000,
 * kmod/e1000) takes ZC: any other throws with errno EOPNOTSUPP and a message naming the driver.
 */
export type FastnetMode = 'read' | 'ring' | 'zc';

export interface FastnetOptions {
  ifname: string;
  mode: FastnetMode;
  /** READ mode: the bound on queued frames. RING, ZC: slots in the ring. 0 = the module's default. */
  depth: number;
}

export interface FastnetStats extends KernelCalls {
  /**
   * FASTNET_IOC_GET_STATS. received = delivered + dropped + discarded + queued once no frame is
   * inside the module's rx_handler, which counts a frame received before any of the others.
   */
  received: number;
  delivered: number;
  dropped: number;
  full: number;
  discarded: number;
  /** READ mode: frames waiting to be read now. */
  queued: number;
  /**
   * ZC only (absent otherwise): the NIC driver's own counters since the binding, which the
   * module's do not include: frames the NIC dropped having no free slot (e1000: MPC), and times
   * it found no descriptor (e1000: RNBC; not a drop count). Under qemu these over-count once
   * nonzero: the emulated e1000 does not clear them when read, as the chip does.
   */
  nicMissed?: number;
  nicNoBuffer?: number;
}

/** /dev/fastnet bound to one interface in READ (one read() per frame), RING or ZC mode. */
export interface FastnetHandle {
  /** RING and ZC modes: the mapped slots as an external ArrayBuffer; null in READ mode. */
  readonly ring: ArrayBuffer | null;
  /** READ mode: one read() into buf, [0, length] into table[0..1]; 1, or 0 after timeoutMs. */
  readOne(buf: Uint8Array, table: Uint32Array, timeoutMs: number): number;
  /**
   * RING, ZC: up to maxFrames filled slots as (offset into `ring`, length) pairs; 0 after
   * timeoutMs. Waiting (ZC) also hands slots that came back to the NIC.
   */
  nextSlots(table: Uint32Array, maxFrames: number, timeoutMs: number): number;
  /** RING, ZC: hands the slots of the last nextSlots() back to the module. */
  releaseSlots(): void;
  consumeNative(maxFrames: number, sliceMs: number, idleMs: number): NativeCount;
  stats(): FastnetStats;
  /** Closing returns the interface to OFF. Idempotent. */
  close(): void;
}

export interface CycleCounter {
  /** Cycles counted for the calling thread since open. */
  read(): number;
  close(): void;
}

export interface NativeBinding {
  /** The C doSomething over a table, for tests that prove it agrees with the TS one. */
  countTable(buf: Uint8Array, table: Uint32Array, frames: number): number;

  readTsc(): bigint;
  /** TSC ticks per second, measured against CLOCK_MONOTONIC over `ms`. */
  calibrateTsc(ms: number): number;
  /**
   * The calling thread's CPU time: getrusage(RUSAGE_THREAD)'s user/system split, which the kernel
   * updates only at ticks and context switches, and CLOCK_THREAD_CPUTIME_ID's exact total.
   */
  /**
   * The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, and getrusage's user/system split)
   * and, from getrusage(RUSAGE_THREAD), its context switches and minor faults.
   */
  threadCpuTime(): ThreadUsage;
  /**
   * ns of thread CPU time a fixed amount of integer and memory work took on a thread pinned to
   * `cpu` (-1: wherever the process may run), the mean of a few passes: the CPU's speed now.
   */
  speedProbe(cpu: number): number;
  /** Another process's CPU time in ns, from its CPU clock (for ksoftirqd threads). */
  taskCpuTime(pid: number): number;
  /**
   * Pins the calling thread to `cpu` and moves the process's other threads (Node's helpers) to
   * the CPUs it started with less `cpu`; capbench's own "cb-" threads place themselves (an
   * unpinned generator also keeps off `cpu`). Call it again to catch threads created since.
   */
  reserveCpu(cpu: number): void;
  /**
   * Pins the calling thread, and only it, to `cpu` (sched_setaffinity): for worker_threads
   * readers, which must place themselves. A worker thread is also renamed "cb-pinned", so a later
   * reserveCpu does not move it. Throws with errno (EINVAL for a CPU this process may not use).
   */
  pinThread(cpu: number): void;
  /** perf_event_open(PERF_COUNT_HW_CPU_CYCLES) for the calling thread; throws when there is no PMU. */
  openCycleCounter(): CycleCounter;

  PacketSocket: new (options: PacketSocketOptions) => PacketSocket;
  pcapProbe(): LibraryProbe;
  PcapHandle: new (options: PcapOptions) => PcapHandle;
  Generator: new (options: GeneratorOptions) => Generator;

  PacketMmapRing: new (options: PacketMmapOptions) => PacketMmapRing;
  /** Whether the addon was built with libxdp and the kernel has AF_XDP. */
  afXdpProbe(): LibraryProbe;
  AfXdpSocket: new (options: AfXdpOptions) => AfXdpSocket;
  /** Whether /dev/fastnet exists and speaks the ABI the addon was built against. */
  fastnetProbe(): LibraryProbe;
  /**
   * Throws the Error `new FastnetHandle({ ifname, mode })` would (errno and message as there:
   * EOPNOTSUPP for ZC on a driver without fastnet's hook, EMSGSIZE for an MTU mode 3 cannot
   * take, ENODEV, EBUSY, ...), binding nothing; returns when the bind would succeed.
   */
  fastnetCheck(ifname: string, mode: FastnetMode): void;
  FastnetHandle: new (options: FastnetOptions) => FastnetHandle;
}

const require = createRequire(import.meta.url);

let loaded: NativeBinding | undefined;

/**
 * The addon detaches ring and UMEM buffers when they are closed, so JS can never read unmapped
 * memory. V8 assumes no ArrayBuffer is ever detached until one is: the first detach in a process
 * throws away every optimized function that reads a typed array. Without this, that happened when
 * the warm-up window's ring was closed, and the measured window began in the interpreter.
 */
function detachOneBufferNow(): void {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
}

const ADDON = '../../../build/Release/capbench.node';

/** Loads build/Release/capbench.node once. */
export function native(): NativeBinding {
  if (loaded === undefined) {
    detachOneBufferNow();
    try {
      loaded = require(ADDON) as NativeBinding;
    } catch (err) {
      // Its install script did not run (npm 11 without --allow-scripts, --ignore-scripts) or failed.
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      throw new SystemError(
        'the native addon was never built (build/Release/capbench.node is missing): install capbench again ' +
          'with its install script allowed (see the README), or run `npm ci` in a clone',
      );
    }
  }
  return loaded;
}
