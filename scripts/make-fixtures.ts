/**
 * Builds the traffic fixtures: `node dist/scripts/make-fixtures.js <dir>` (npm run fixtures).
 * The output must be byte-for-byte reproducible (the committed files are tested against a fresh
 * run), so everything here is fixed: timestamps, MACs, addresses, IP IDs, payload pattern.
 * All IPv4, UDP and TCP checksums are real, so tcpdump -vv and any receiving stack accept them.
 *
 * Frame sizes: "a 64-byte frame" in benchmarking (RFC 2544, IMIX) counts the 4-byte FCS the NIC
 * appends. pcap, AF_PACKET and veth never see the FCS, so a 64-byte frame is 60 bytes here,
 * 594 is 590 and 1518 is 1514.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LINKTYPE_ETHERNET, writePcapFile, type PcapFile } from '../src/net/pcap-file.js';

const FCS = 4;
const MIN_FRAME = 64 - FCS; // Ethernet pads shorter frames to this on the wire

const DST_MAC = [0x02, 0, 0, 0, 0, 0x01]; // locally administered: never a real NIC's address
const SRC_MAC = [0x02, 0, 0, 0, 0, 0x02];
const BROADCAST_MAC = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
// RFC 2544 benchmarking range (198.18.0.0/15) and its IPv6 twin (RFC 5180, 2001:2::/48).
const SRC_IP = [198, 18, 0, 2];
const DST_IP = [198, 18, 0, 1];
// ARP requests ask for an address no test bed configures, so no stack ever answers one.
const ARP_TARGET_IP = [198, 19, 255, 254];
const SRC_IP6 = [0x20, 0x01, 0x00, 0x02, ...Array<number>(11).fill(0), 0x02];
const DST_IP6 = [0x20, 0x01, 0x00, 0x02, ...Array<number>(11).fill(0), 0x01];
const UDP_SRC_PORT = 1024;
const UDP_DST_PORT = 9; // discard
const TCP_SRC_PORT = 40000;
const TCP_DST_PORT = 80;
const VLAN_ID = 100;
/**
 * udp64-flows: flow i comes from 198.18.1.i, port 1024 + i. Both differ because PACKET_FANOUT_HASH
 * hashes ports as well as addresses while some NICs' RSS hashes UDP on addresses alone by default.
 */
const FLOWS = 256;
const FLOW_SRC_NET = [198, 18, 1];

const ETH_IPV4 = 0x0800;
const ETH_ARP = 0x0806;
const ETH_VLAN = 0x8100;
const ETH_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

const BASE_TIME = 1_704_067_200; // 2024-01-01T00:00:00Z
const SNAPLEN = 65535;

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A payload that is not all zeros, so an offset bug in a consumer shows in a hex dump. */
function pattern(length: number): number[] {
  return Array.from({ length }, (_, i) => i & 0xff);
}

/** RFC 1071 Internet checksum over the concatenation of the parts. */
function inetChecksum(...parts: number[][]): number {
  let sum = 0;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(
  dst: number[],
  etherType: number,
  payload: number[],
  vlanId?: number,
): Uint8Array {
  const tag = vlanId === undefined ? [] : [...u16(ETH_VLAN), ...u16(vlanId & 0x0fff)];
  const frame = [...dst, ...SRC_MAC, ...tag, ...u16(etherType), ...payload];
  while (frame.length < MIN_FRAME) frame.push(0);
  return Uint8Array.from(frame);
}

/** Who a UDP/IPv4 frame is from: every fixture but udp64-flows uses the one default flow. */
interface Flow {
  srcIp: number[];
  srcPort: number;
}

const DEFAULT_FLOW: Flow = { srcIp: SRC_IP, srcPort: UDP_SRC_PORT };

function ipv4(protocol: number, id: number, payload: number[], srcIp = SRC_IP): number[] {
  const header = [
    0x45,
    0,
    ...u16(20 + payload.length),
    ...u16(id),
    0,
    0,
    64,
    protocol,
    0,
    0,
    ...srcIp,
    ...DST_IP,
  ];
  const sum = inetChecksum(header);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return [...header, ...payload];
}

/** TCP/UDP checksum: the segment summed with its IP pseudo-header. */
function transportChecksum(pseudo: number[], segment: number[]): number {
  return inetChecksum(pseudo, segment);
}

/** UDP segment; `pseudo` gives the IP pseudo-header for a segment length, which differs by family. */
function udp(
  pseudo: (length: number) => number[],
  payloadLength: number,
  srcPort = UDP_SRC_PORT,
): number[] {
  const length = 8 + payloadLength;
  const segment = [
    ...u16(srcPort),
    ...u16(UDP_DST_PORT),
    ...u16(length),
    0,
    0,
    ...pattern(payloadLength),
  ];
  // A UDP checksum of 0 means "none", so a computed 0 goes out as its equivalent 0xffff.
  const sum = transportChecksum(pseudo(length), segment) || 0xffff;
  segment[6] = sum >> 8;
  segment[7] = sum & 0xff;
  return segment;
}

const pseudo4 =
  (protocol: number, srcIp = SRC_IP) =>
  (length: number): number[] => [...srcIp, ...DST_IP, 0, protocol, ...u16(length)];
const pseudo6 =
  (next: number) =>
  (length: number): number[] => [...SRC_IP6, ...DST_IP6, ...u32(length), 0, 0, 0, next];

/** IPv4 UDP frame of exactly frameLen bytes (without FCS). */
function udp4Frame(frameLen: number, id: number, vlanId?: number, flow = DEFAULT_FLOW): Uint8Array {
  const overhead = 14 + (vlanId === undefined ? 0 : 4) + 20 + 8;
  const segment = udp(pseudo4(PROTO_UDP, flow.srcIp), frameLen - overhead, flow.srcPort);
  return ethernet(DST_MAC, ETH_IPV4, ipv4(PROTO_UDP, id, segment, flow.srcIp), vlanId);
}

function tcpSynFrame(id: number): Uint8Array {
  const segment = [
    ...u16(TCP_SRC_PORT),
    ...u16(TCP_DST_PORT),
    ...u32(0x10000000 + id), // sequence number
    ...u32(0), // ack
    0x50,
    0x02, // data offset 5 words; flags SYN
    ...u16(64240), // window
    0,
    0, // checksum
    0,
    0, // urgent pointer
  ];
  const sum = transportChecksum(pseudo4(PROTO_TCP)(segment.length), segment);
  segment[16] = sum >> 8;
  segment[17] = sum & 0xff;
  return ethernet(DST_MAC, ETH_IPV4, ipv4(PROTO_TCP, id, segment));
}

function udp6Frame(payloadLength: number): Uint8Array {
  const segment = udp(pseudo6(PROTO_UDP), payloadLength);
  const header = [0x60, 0, 0, 0, ...u16(segment.length), PROTO_UDP, 64, ...SRC_IP6, ...DST_IP6];
  return ethernet(DST_MAC, ETH_IPV6, [...header, ...segment]);
}

/** An ARP request is broadcast, as on a real link. */
function arpRequestFrame(): Uint8Array {
  const arp = [
    ...u16(1),
    ...u16(ETH_IPV4),
    6,
    4,
    ...u16(1), // Ethernet/IPv4, request
    ...SRC_MAC,
    ...SRC_IP,
    0,
    0,
    0,
    0,
    0,
    0,
    ...ARP_TARGET_IP,
  ];
  return ethernet(BROADCAST_MAC, ETH_ARP, arp);
}

function pcapOf(frames: Uint8Array[]): PcapFile {
  return {
    byteOrder: 'le',
    resolution: 'us',
    snaplen: SNAPLEN,
    linkType: LINKTYPE_ETHERNET,
    // One microsecond apart: timestamps only need to be fixed and increasing.
    records: frames.map((data, i) => ({ tsSec: BASE_TIME, tsFrac: i, origLen: data.length, data })),
  };
}

/** One IPv4 UDP frame of `size` bytes on the wire (FCS included): the sweep's frame sizes. */
function udpOfSize(size: number): () => Uint8Array[] {
  return () => [udp4Frame(size - FCS, 1)];
}

/** Simple IMIX 7:4:1 of 64/594/1518, spread out so no burst of 7 small frames in a row. */
function imix(): Uint8Array[] {
  const order = 'SMSSMSLSMSSM';
  const sizes: Record<string, number> = { S: 64, M: 594, L: 1518 };
  return [...order].map((c, i) => udp4Frame(sizes[c]! - FCS, i + 1));
}

/** Ten frames, five of them counted: the VLAN-tagged IPv4 frame must not count. */
function mixed(): Uint8Array[] {
  return [
    udp4Frame(60, 1),
    udp6Frame(18),
    tcpSynFrame(3),
    arpRequestFrame(),
    udp4Frame(64, 5, VLAN_ID), // 0x8100 at bytes 12-13: IPv4 inside, not counted
    udp4Frame(60, 6),
    udp6Frame(18),
    tcpSynFrame(8),
    arpRequestFrame(),
    udp4Frame(60, 10),
  ];
}

/**
 * udp64 spread over FLOWS 5-tuples, one frame each, flows in order: consecutive frames always
 * belong to different flows. All IPv4 like udp64, so the expected count stays the frame count.
 */
function udp64Flows(): Uint8Array[] {
  return Array.from({ length: FLOWS }, (_, i) =>
    udp4Frame(64 - FCS, i + 1, undefined, {
      srcIp: [...FLOW_SRC_NET, i],
      srcPort: UDP_SRC_PORT + i,
    }),
  );
}

/** Frame sizes `capbench sweep --sizes` can use (RFC 2544's, up to the Ethernet MTU). */
const SWEEP_SIZES = [64, 128, 256, 512, 1024, 1280, 1518];

const FIXTURES: Record<string, () => Uint8Array[]> = {
  ...Object.fromEntries(SWEEP_SIZES.map((size) => [`udp${size}`, udpOfSize(size)])),
  'udp64-flows': udp64Flows,
  imix,
  mixed,
};

async function main(argv: string[]): Promise<number> {
  const dir = argv[0];
  if (argv.length !== 1 || dir === undefined) {
    process.stderr.write('usage: node dist/scripts/make-fixtures.js <output-dir>\n');
    return 2;
  }
  await mkdir(dir, { recursive: true });
  for (const [name, build] of Object.entries(FIXTURES)) {
    const frames = build();
    const path = join(dir, `${name}.pcap`);
    await writePcapFile(path, pcapOf(frames));
    process.stdout.write(`${path}: ${frames.length} frame${frames.length === 1 ? '' : 's'}\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
