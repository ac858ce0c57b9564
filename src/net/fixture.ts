/**
 * A fixture is a pcap file of Ethernet frames the generator replays round-robin. Loading one also
 * works out how many of its frames the counter must count, from the bytes themselves, so the
 * expected figure in a result row can never drift from the traffic that was actually sent.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../shared/errors.js';
import { LINKTYPE_ETHERNET, readPcapFile } from './pcap-file.js';

export interface Fixture {
  name: string;
  path: string;
  frames: Uint8Array[];
  /** All frames back to back, in file order; lengths[i] is the size of frames[i]. */
  concatenated: Uint8Array;
  lengths: Uint32Array;
  /** IPv4 frames in one pass over frames (one round-robin cycle). */
  ipv4PerCycle: number;
}

/** Below 14 bytes there is no Ethernet header; above 9000 no test bed MTU carries the frame. */
export const MIN_FRAME = 14;
export const MAX_FRAME = 9000;

// This file runs as dist/src/net/fixture.js; the repo root is three levels up.
export const FIXTURES_DIR = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
export const DEFAULT_FIXTURE = join(FIXTURES_DIR, 'udp64.pcap');

/**
 * Deliberately not doSomething(): an independent reading of the same rule (untagged EtherType
 * 0x0800), so a bug in the counter shows up as a count mismatch instead of being copied here.
 */
function isUntaggedIpv4(frame: Uint8Array): boolean {
  if (frame.length < MIN_FRAME) return false;
  const etherType = (frame[12]! << 8) | frame[13]!;
  return etherType === 0x0800;
}

export async function loadFixture(path: string): Promise<Fixture> {
  const file = await readPcapFile(path);
  if (file.linkType !== LINKTYPE_ETHERNET) {
    throw new UsageError(
      `${path}: link type ${file.linkType} is not Ethernet (1); fixtures must hold Ethernet frames`,
    );
  }
  if (file.records.length === 0)
    throw new UsageError(`${path}: no frames; a fixture needs at least one`);

  const frames: Uint8Array[] = [];
  file.records.forEach((r, i) => {
    const len = r.data.length;
    if (len < MIN_FRAME || len > MAX_FRAME) {
      throw new UsageError(
        `${path}: frame ${i + 1} is ${len} bytes; fixture frames must be ${MIN_FRAME}..${MAX_FRAME}`,
      );
    }
    // The generator sends what was captured; a snapped frame would not be the frame recorded.
    if (r.origLen !== len) {
      throw new UsageError(
        `${path}: frame ${i + 1} was cut to ${len} of its ${r.origLen} bytes when captured`,
      );
    }
    frames.push(r.data);
  });

  const lengths = Uint32Array.from(frames, (f) => f.length);
  const concatenated = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
  let pos = 0;
  for (const f of frames) {
    concatenated.set(f, pos);
    pos += f.length;
  }
  const ipv4PerCycle = frames.filter(isUntaggedIpv4).length;
  return {
    name: basename(path).replace(/\.pcap$/, ''),
    path,
    frames,
    concatenated,
    lengths,
    ipv4PerCycle,
  };
}

/**
 * IPv4 frames among what was sent. Each generator thread replays the fixture round-robin from
 * frame 0, so `sent` is one count per thread (frames[i % k], i < sent[t]), or one number for one
 * thread.
 */
export function expectedIpv4(fixture: Fixture, sent: number | readonly number[]): number {
  const perThread = typeof sent === 'number' ? [sent] : sent;
  return perThread.reduce((total, n) => total + expectedIpv4OfThread(fixture, n), 0);
}

function expectedIpv4OfThread(fixture: Fixture, sent: number): number {
  if (!Number.isSafeInteger(sent) || sent < 0) {
    throw new RangeError(`expectedIpv4: sent must be a non-negative integer, got ${sent}`);
  }
  const k = fixture.frames.length;
  let count = Math.floor(sent / k) * fixture.ipv4PerCycle;
  for (let i = 0; i < sent % k; i++) {
    if (isUntaggedIpv4(fixture.frames[i]!)) count++;
  }
  return count;
}

function availableFixtures(): string[] {
  try {
    return readdirSync(FIXTURES_DIR)
      .filter((f) => f.endsWith('.pcap'))
      .map((f) => f.slice(0, -'.pcap'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

/**
 * An existing file is used as given; otherwise a bare name (`mixed`, `mixed.pcap`) is looked up
 * in the repo's fixtures/ directory.
 */
export function fixturePath(nameOrPath: string): string {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return nameOrPath;
  const bare = !nameOrPath.includes('/');
  if (bare) {
    const candidate = join(
      FIXTURES_DIR,
      nameOrPath.endsWith('.pcap') ? nameOrPath : `${nameOrPath}.pcap`,
    );
    if (existsSync(candidate)) return candidate;
  }
  const known = availableFixtures();
  const list = known.length > 0 ? known.join(', ') : `none in ${FIXTURES_DIR}`;
  const what = bare ? `unknown fixture '${nameOrPath}'` : `${nameOrPath}: no such file`;
  throw new UsageError(`${what} (fixtures: ${list})`);
}

/** Bytes of the fixture's largest frame (a loop: spreading a big fixture would overflow the stack). */
export function largestFrame(fixture: Fixture): number {
  let max = 0;
  for (const len of fixture.lengths) if (len > max) max = len;
  return max;
}

/**
 * The smallest MTU that carries every frame of the fixture: a frame is the MTU plus its 14-byte
 * Ethernet header, and 4 more for an 802.1Q or 802.1ad tag (the generator's own rule).
 */
export function mtuNeeded(fixture: Fixture): number {
  let mtu = 0;
  for (const f of fixture.frames) {
    const type = ((f[12] ?? 0) << 8) | (f[13] ?? 0);
    const tag = type === 0x8100 || type === 0x88a8 ? 4 : 0;
    mtu = Math.max(mtu, f.length - MIN_FRAME - tag);
  }
  return mtu;
}

/** The fixture's destination MAC addresses, once each, lower case with colons. */
export function destinations(fixture: Fixture): string[] {
  const macs = new Set<string>();
  for (const f of fixture.frames)
    macs.add(Array.from(f.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':'));
  return [...macs];
}
