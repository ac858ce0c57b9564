/**
 * Classic libpcap files (not pcapng): a 24-byte file header, then per record a 16-byte header
 * (ts seconds, ts fraction, captured length, original length) and the captured bytes.
 * Both byte orders and both timestamp resolutions are read; the magic number says which.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { UsageError } from '../shared/errors.js';

export interface PcapRecord {
  tsSec: number;
  /** Microseconds or nanoseconds, as the file's resolution says. */
  tsFrac: number;
  origLen: number;
  /** The captured bytes; their length is the record's captured length. */
  data: Uint8Array;
}

export interface PcapFile {
  byteOrder: 'le' | 'be';
  resolution: 'us' | 'ns';
  snaplen: number;
  linkType: number;
  records: PcapRecord[];
}

export const LINKTYPE_ETHERNET = 1;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

const hex32 = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

export function readPcap(bytes: Uint8Array, name: string): PcapFile {
  const fail = (what: string): never => {
    throw new UsageError(`${name}: ${what}`);
  };
  if (bytes.length === 0) fail('empty file, not a pcap file');
  if (bytes.length < 4) fail(`not a pcap file (only ${bytes.length} bytes)`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Reading the magic as little-endian tells the byte order: a big-endian file shows it swapped.
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  let le: boolean;
  let resolution: 'us' | 'ns';
  if (magicLE === MAGIC_US || magicLE === MAGIC_NS) {
    le = true;
    resolution = magicLE === MAGIC_NS ? 'ns' : 'us';
  } else if (magicBE === MAGIC_US || magicBE === MAGIC_NS) {
    le = false;
    resolution = magicBE === MAGIC_NS ? 'ns' : 'us';
  } else if (magicBE === MAGIC_PCAPNG) {
    return fail(
      'is pcapng, only classic pcap is supported (convert with: editcap -F pcap in.pcapng out.pcap)',
    );
  } else {
    return fail(`not a pcap file (magic ${hex32(magicBE)})`);
  }

  if (bytes.length < FILE_HEADER) {
    fail(`truncated in the file header (needs ${FILE_HEADER} bytes, ${bytes.length} present)`);
  }
  const major = view.getUint16(4, le);
  const minor = view.getUint16(6, le);
  if (major !== 2) fail(`unsupported pcap version ${major}.${minor} (only 2.x)`);
  const snaplen = view.getUint32(16, le);
  const linkType = view.getUint32(20, le);

  const records: PcapRecord[] = [];
  let pos = FILE_HEADER;
  while (pos < bytes.length) {
    const n = records.length + 1; // 1-based, as tcpdump and Wireshark number frames
    const left = bytes.length - pos;
    if (left < RECORD_HEADER) {
      fail(`truncated in record ${n} (record header needs ${RECORD_HEADER} bytes, ${left} left)`);
    }
    const tsSec = view.getUint32(pos, le);
    const tsFrac = view.getUint32(pos + 4, le);
    const capLen = view.getUint32(pos + 8, le);
    const origLen = view.getUint32(pos + 12, le);
    // A length beyond the snaplen means a corrupt header; saying so beats reporting "truncated".
    if (capLen > snaplen) {
      fail(`corrupt record ${n} (captured length ${capLen} exceeds the file's snaplen ${snaplen})`);
    }
    pos += RECORD_HEADER;
    if (capLen > bytes.length - pos) {
      fail(`truncated in record ${n} (header says ${capLen} bytes, ${bytes.length - pos} left)`);
    }
    // A copy, so a record neither keeps the whole file alive nor aliases the caller's buffer.
    // (Not bytes.slice(): on a Buffer, from readFile, that is a view, and a Buffer at that.)
    records.push({
      tsSec,
      tsFrac,
      origLen,
      data: new Uint8Array(bytes.subarray(pos, pos + capLen)),
    });
    pos += capLen;
  }
  return { byteOrder: le ? 'le' : 'be', resolution, snaplen, linkType, records };
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`pcap: ${what} ${value} is not a 32-bit unsigned integer`);
  }
}

/** Throws RangeError on a record no reader would accept: that is a bug in the caller. */
export function writePcap(file: PcapFile): Uint8Array {
  checkU32(file.snaplen, 'snaplen');
  checkU32(file.linkType, 'link type');
  const fracLimit = file.resolution === 'ns' ? 1e9 : 1e6;
  let total = FILE_HEADER;
  file.records.forEach((r, i) => {
    checkU32(r.tsSec, `record ${i + 1} tsSec`);
    checkU32(r.tsFrac, `record ${i + 1} tsFrac`);
    checkU32(r.origLen, `record ${i + 1} origLen`);
    if (r.tsFrac >= fracLimit) {
      throw new RangeError(
        `pcap: record ${i + 1} tsFrac ${r.tsFrac} is not below ${fracLimit} (${file.resolution})`,
      );
    }
    if (r.data.length > file.snaplen) {
      throw new RangeError(
        `pcap: record ${i + 1} has ${r.data.length} bytes, more than snaplen ${file.snaplen}`,
      );
    }
    if (r.origLen < r.data.length) {
      throw new RangeError(
        `pcap: record ${i + 1} origLen ${r.origLen} is below its ${r.data.length} captured bytes`,
      );
    }
    total += RECORD_HEADER + r.data.length;
  });

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const le = file.byteOrder === 'le';
  view.setUint32(0, file.resolution === 'ns' ? MAGIC_NS : MAGIC_US, le);
  view.setUint16(4, 2, le);
  view.setUint16(6, 4, le);
  // thiszone and sigfigs (8..15) stay 0: every writer since libpcap 0.x does so.
  view.setUint32(16, file.snaplen, le);
  view.setUint32(20, file.linkType, le);
  let pos = FILE_HEADER;
  for (const r of file.records) {
    view.setUint32(pos, r.tsSec, le);
    view.setUint32(pos + 4, r.tsFrac, le);
    view.setUint32(pos + 8, r.data.length, le);
    view.setUint32(pos + 12, r.origLen, le);
    out.set(r.data, pos + RECORD_HEADER);
    pos += RECORD_HEADER + r.data.length;
  }
  return out;
}

function describeFsError(path: string, err: unknown): UsageError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return new UsageError(`${path}: no such file`);
  if (code === 'EISDIR') return new UsageError(`${path}: is a directory, not a pcap file`);
  if (code === 'EACCES') return new UsageError(`${path}: permission denied`);
  return new UsageError(
    `${path}: cannot read (${err instanceof Error ? err.message : String(err)})`,
  );
}

export async function readPcapFile(path: string): Promise<PcapFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw describeFsError(path, err);
  }
  return readPcap(bytes, path);
}

/** Atomic: readers see the old file or the whole new one, never a half-written one. */
export async function writePcapFile(path: string, file: PcapFile): Promise<void> {
  await writeFileAtomic(path, writePcap(file));
}
