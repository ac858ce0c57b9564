/**
 * What `capbench send` is asked to do. The CLI builds one of these; the send runner takes nothing
 * else. The names here are the send methods' (senders/registry.ts maps each to its
 * implementation, typed against this list), beside the capture methods' in config.ts.
 */
import type { Tier } from './config.js';

/** Every name `send --methods` takes, in the order rows are run and shown. */
export const SEND_METHOD_NAMES = [
  'packet-send',
  'packet-sendmmsg',
  'packet-tx-ring',
  'af-xdp-tx',
  'udp-send',
  'udp-sendmmsg',
  'udp-gso',
  'udp-zerocopy',
  'io-uring-send',
  'io-uring-send-zc',
  'tcp-send',
  'tcp-zerocopy',
  'fastnet-inject',
] as const;
export type SendMethodName = (typeof SEND_METHOD_NAMES)[number];

/**
 * What a method hands the kernel, and so what the sink counts: Ethernet frames replayed from the
 * fixture (a packet socket, counted by a TPACKET_V3 reader on the capture end), UDP datagrams (a
 * reading UDP socket) or a TCP byte stream (a reading TCP socket).
 */
export type SendKind = 'frames' | 'udp' | 'tcp';

export interface SendConfig {
  methods: SendMethodName[];
  /** Whether --methods named them: a method that cannot run here is then refused, not a row. */
  methodsGiven: boolean;
  tiers: Tier[];
  /**
   * Per trial: frames (frame methods) or datagrams (UDP; udp-gso's segments), and for TCP the
   * writes that move as many payload bytes as this many datagrams of 1,472 bytes would, unless
   * given (then writes).
   */
  count: number;
  countGiven: boolean;
  /**
   * L4 payload bytes per datagram or write (udp-gso: per call), one row per payload for each L4
   * method: several make the payload sweep. null: each method's default (SEND_DEFAULTS).
   */
  payloads: number[] | null;
  /** udp-gso: the segment size UDP_SEGMENT cuts a call's payload at. */
  gsoSize: number;
  /** Frames or datagrams per sendmmsg call, frames per TX ring kick. */
  batch: number;
  /** Packet methods send with PACKET_QDISC_BYPASS (straight to the driver, as trafgen does). */
  qdiscBypass: boolean;
  fixturePath: string;
  trials: number;
  /** The sending thread's CPU and the sink thread's; -1 leaves them. */
  senderCpu: number;
  sinkCpu: number;
  /**
   * Two-port mode (both set, or neither): the sink reads `iface` (CAP) and the frame methods send
   * from `genIface` (GEN), both ports of capbench's own namespace; null: the test bed.
   */
  iface: string | null;
  genIface: string | null;
}

export const SEND_DEFAULTS = {
  count: 100_000,
  fixture: 'udp64',
  trials: 5,
  tiers: ['js'] as readonly Tier[],
  batch: 64,
  gsoSize: 1472,
  qdiscBypass: false,
  /** A datagram that fills a 1,500-byte MTU: 1500 − 20 (IPv4) − 8 (UDP). */
  udpPayload: 1472,
  /** udp-gso's call: 42 full segments, as udpgso_bench_tx sends in the commit that added UDP_SEGMENT. */
  gsoSegments: 42,
  /** TCP writes of 64 KiB, the size a streaming program typically hands write(). */
  tcpPayload: 65_536,
} as const;

/** The largest UDP payload: 65,535 − 20 (IPv4 header) − 8 (UDP header). */
export const MAX_UDP_PAYLOAD = 65_507;
/** The largest TCP write capbench makes: 1 MiB. */
export const MAX_TCP_WRITE = 1 << 20;
/**
 * UDP_SEGMENT's cap on segments per call: UDP_MAX_SEGMENTS, 64 in Linux 6.1 (128 in later
 * kernels); the lower one, so a command that works here works in the VM's 6.1 too.
 */
export const MAX_GSO_SEGMENTS = 64;
