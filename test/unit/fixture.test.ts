import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTable, doSomething } from '../../src/core/counter.js';
import { UsageError } from '../../src/shared/errors.js';
import {
  DEFAULT_FIXTURE,
  FIXTURES_DIR,
  expectedIpv4,
  fixturePath,
  loadFixture,
  type Fixture,
} from '../../src/net/fixture.js';
import { writePcapFile, type PcapRecord } from '../../src/net/pcap-file.js';

// This file runs as dist/test/unit/fixture.test.js.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/make-fixtures.js', import.meta.url));
const NAMES = [
  'imix',
  'mixed',
  'udp1024',
  'udp128',
  'udp1280',
  'udp1518',
  'udp256',
  'udp512',
  'udp64',
  'udp64-flows',
];

const load = (name: string): Promise<Fixture> => loadFixture(join(FIXTURES_DIR, `${name}.pcap`));
const etherType = (f: Uint8Array, at = 12): number => (f[at]! << 8) | f[at + 1]!;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'capbench-fixture-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a one-off pcap for the loader's error cases. */
async function pcapWith(dir: string, records: PcapRecord[], linkType = 1): Promise<string> {
  const path = join(dir, 'case.pcap');
  await writePcapFile(path, {
    byteOrder: 'le',
    resolution: 'us',
    snaplen: 65535,
    linkType,
    records,
  });
  return path;
}

const frame = (length: number, type = 0x0800): PcapRecord => {
  const data = new Uint8Array(length);
  if (length >= 14) data.set([type >> 8, type & 0xff], 12);
  return { tsSec: 0, tsFrac: 0, origLen: length, data };
};

test('committed fixtures are byte-for-byte what make-fixtures produces now', async () => {
  await withTempDir(async (dir) => {
    execFileSync(process.execPath, [SCRIPT, dir], { stdio: 'pipe' });
    assert.deepEqual((await readdir(dir)).sort(), NAMES.map((n) => `${n}.pcap`).sort());
    for (const name of NAMES) {
      const fresh = await readFile(join(dir, `${name}.pcap`));
      const committed = await readFile(join(FIXTURES_DIR, `${name}.pcap`));
      assert.ok(
        fresh.equals(committed),
        `${name}.pcap differs from a fresh build: run npm run fixtures`,
      );
    }
  });
});

test('udp64 is one 60-byte IPv4 frame (64 on the wire with FCS)', async () => {
  const f = await load('udp64');
  assert.deepEqual([...f.lengths], [60]);
  assert.equal(f.ipv4PerCycle, 1);
});

/** Source and destination address, protocol and ports of an untagged IPv4 UDP frame. */
const fiveTuple = (f: Uint8Array): string =>
  Array.from(f.subarray(26, 38), (b) => b.toString(16).padStart(2, '0')).join('') +
  f[23]!.toString(16);

/** RFC 1071 sum over the parts, folded; 0xffff when a checksum inside them is right. */
function onesSum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts)
    for (let i = 0; i < p.length; i += 2) sum += (p[i]! << 8) | (p[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('udp64-flows is 256 60-byte IPv4 UDP frames of 256 different 5-tuples', async () => {
  const f = await load('udp64-flows');
  assert.equal(f.frames.length, 256);
  assert.ok(f.lengths.every((len) => len === 60));
  assert.equal(f.ipv4PerCycle, 256);
  assert.ok(f.frames.every((fr) => etherType(fr) === 0x0800 && fr[23] === 17));
  assert.equal(new Set(f.frames.map(fiveTuple)).size, 256);
});

test('udp64-flows varies source address and port both, so address-only hashes spread it too', async () => {
  const f = await load('udp64-flows');
  const sources = new Set(f.frames.map((fr) => fr.subarray(26, 30).join('.')));
  const ports = new Set(f.frames.map((fr) => (fr[34]! << 8) | fr[35]!));
  assert.equal(sources.size, 256);
  assert.equal(ports.size, 256);
});

test('udp64-flows frames carry correct UDP checksums', async () => {
  for (const fr of (await load('udp64-flows')).frames) {
    const udpLen = (fr[38]! << 8) | fr[39]!;
    const pseudo = Uint8Array.from([...fr.subarray(26, 34), 0, 17, udpLen >> 8, udpLen & 0xff]);
    assert.equal(onesSum(pseudo, fr.subarray(34, 34 + udpLen)), 0xffff);
  }
});

test('imix holds 64/594/1518-byte frames 7:4:1, minus FCS', async () => {
  const f = await load('imix');
  const count = (n: number) => f.frames.filter((fr) => fr.length === n).length;
  assert.deepEqual([count(60), count(590), count(1514), f.frames.length], [7, 4, 1, 12]);
});

test('imix interleaves sizes instead of sending 7 small frames in a row', async () => {
  const f = await load('imix');
  let run = 0;
  let longest = 0;
  for (const len of f.lengths) {
    run = len === 60 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  assert.ok(longest <= 2, `longest run of small frames is ${longest}`);
});

test('imix frames are all IPv4', async () => {
  assert.equal((await load('imix')).ipv4PerCycle, 12);
});

test('mixed has a VLAN-tagged IPv4 frame and does not count it', async () => {
  const f = await load('mixed');
  const vlan = f.frames.filter((fr) => etherType(fr) === 0x8100);
  assert.equal(vlan.length, 1);
  assert.equal(etherType(vlan[0]!, 16), 0x0800);
  assert.equal(f.ipv4PerCycle, 5);
  assert.equal(f.frames.length, 10);
});

test('mixed holds IPv4 UDP, IPv4 TCP, IPv6, ARP and VLAN frames', async () => {
  const f = await load('mixed');
  const types = new Set(f.frames.map((fr) => etherType(fr)));
  const ipv4Protocols = new Set(
    f.frames.filter((fr) => etherType(fr) === 0x0800).map((fr) => fr[23]),
  );
  assert.deepEqual(
    [...types].sort((a, b) => a - b),
    [0x0800, 0x0806, 0x8100, 0x86dd],
  );
  assert.deepEqual(
    [...ipv4Protocols].sort((a, b) => a! - b!),
    [6, 17],
  );
});

test('every fixture agrees with the counter run over its concatenated frames', async () => {
  for (const name of NAMES) {
    const f = await load(name);
    const table = new Uint32Array(2 * f.frames.length);
    let offset = 0;
    f.lengths.forEach((len, i) => {
      table[2 * i] = offset;
      table[2 * i + 1] = len;
      offset += len;
    });
    assert.equal(offset, f.concatenated.length, name);
    assert.equal(countTable(f.concatenated, table, f.frames.length), f.ipv4PerCycle, name);
  }
});

test('concatenated holds the frames back to back in file order', async () => {
  const f = await load('mixed');
  let offset = 0;
  f.frames.forEach((fr, i) => {
    assert.equal(f.lengths[i], fr.length);
    assert.deepEqual(f.concatenated.subarray(offset, offset + fr.length), fr);
    offset += fr.length;
  });
});

test('every IPv4 header in the fixtures has a valid checksum and benchmarking addresses', async () => {
  for (const name of NAMES) {
    for (const fr of (await load(name)).frames) {
      const at = etherType(fr) === 0x8100 ? 18 : 14;
      if (etherType(fr, at - 2) !== 0x0800) continue;
      let sum = 0;
      for (let i = at; i < at + 20; i += 2) sum += (fr[i]! << 8) | fr[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      assert.equal(sum, 0xffff, `${name}: bad IPv4 header checksum`);
      assert.deepEqual(
        [fr[at + 12], fr[at + 13]! & 0xfe],
        [198, 18],
        `${name}: source outside 198.18.0.0/15`,
      );
      assert.deepEqual(
        [fr[at + 16], fr[at + 17]! & 0xfe],
        [198, 18],
        `${name}: destination outside 198.18.0.0/15`,
      );
    }
  }
});

test('expectedIpv4 for a count that is not a multiple of the fixture size', async () => {
  // mixed: 5 per 10-frame cycle; its first 3 frames are IPv4 UDP, IPv6, IPv4 TCP.
  assert.equal(expectedIpv4(await load('mixed'), 13), 7);
});

test('expectedIpv4 matches replaying the fixture frame by frame through the counter', async () => {
  for (const name of NAMES) {
    const f = await load(name);
    let counted = 0;
    for (let sent = 0; sent <= 3 * f.frames.length + 1; sent++) {
      assert.equal(expectedIpv4(f, sent), counted, `${name}, ${sent} sent`);
      const next = f.frames[sent % f.frames.length]!;
      counted += doSomething(next, 0, next.length);
    }
  }
});

test('expectedIpv4 over several threads sums each thread replaying from frame 0', async () => {
  const f = await load('mixed');
  // 13 frames: 7 IPv4 (see above); 4 frames: UDP, IPv6, TCP, ARP = 2 IPv4.
  assert.equal(expectedIpv4(f, [13, 4]), 9);
  assert.equal(expectedIpv4(f, [13, 4]), expectedIpv4(f, 13) + expectedIpv4(f, 4));
  // Not the same as one thread sending 17: that would count frames 13..16 of the cycle instead.
  assert.notEqual(expectedIpv4(f, [13, 4]), expectedIpv4(f, 17));
  assert.equal(expectedIpv4(f, [7]), expectedIpv4(f, 7));
  assert.equal(expectedIpv4(f, []), 0);
});

test('expectedIpv4 rejects a bad count of any thread', async () => {
  const f = await load('udp64');
  assert.throws(() => expectedIpv4(f, [3, -1]), RangeError);
  assert.throws(() => expectedIpv4(f, [0.5]), RangeError);
});

test('expectedIpv4 never counts a frame shorter than 14 bytes', () => {
  // The loader refuses such frames; the rule still must not read past a short frame's end.
  const short = Uint8Array.from([...new Array<number>(12).fill(0), 0x08]);
  const f: Fixture = {
    name: 't',
    path: 't',
    frames: [short],
    concatenated: short,
    lengths: Uint32Array.of(13),
    ipv4PerCycle: 0,
  };
  assert.equal(expectedIpv4(f, 1), 0);
});

test('expectedIpv4 rejects a negative or fractional count', async () => {
  const f = await load('udp64');
  assert.throws(() => expectedIpv4(f, -1), RangeError);
  assert.throws(() => expectedIpv4(f, 1.5), RangeError);
});

test('loadFixture names the fixture after its file', async () => {
  assert.equal((await load('mixed')).name, 'mixed');
});

test('loadFixture refuses a frame shorter than 14 bytes', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, [frame(60), frame(13)]);
    await assert.rejects(loadFixture(path), {
      name: 'UsageError',
      message: `${path}: frame 2 is 13 bytes; fixture frames must be 14..9000`,
    });
  });
});

test('loadFixture refuses a frame longer than 9000 bytes', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, [frame(9001)]);
    await assert.rejects(
      loadFixture(path),
      /frame 1 is 9001 bytes; fixture frames must be 14\.\.9000/,
    );
  });
});

test('loadFixture accepts frames of exactly 14 and 9000 bytes', async () => {
  await withTempDir(async (dir) => {
    const f = await loadFixture(await pcapWith(dir, [frame(14), frame(9000, 0x86dd)]));
    assert.deepEqual([...f.lengths], [14, 9000]);
    assert.equal(f.ipv4PerCycle, 1);
  });
});

test('loadFixture refuses an empty fixture', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, []);
    await assert.rejects(loadFixture(path), {
      name: 'UsageError',
      message: `${path}: no frames; a fixture needs at least one`,
    });
  });
});

test('loadFixture refuses a link type other than Ethernet', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, [frame(60)], 113);
    await assert.rejects(loadFixture(path), {
      name: 'UsageError',
      message: `${path}: link type 113 is not Ethernet (1); fixtures must hold Ethernet frames`,
    });
  });
});

test('loadFixture refuses a frame captured shorter than it was', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, [{ ...frame(60), origLen: 1514 }]);
    await assert.rejects(loadFixture(path), /frame 1 was cut to 60 of its 1514 bytes/);
  });
});

test('loadFixture names a missing file', async () => {
  await assert.rejects(loadFixture('/nonexistent/x.pcap'), {
    name: 'UsageError',
    message: '/nonexistent/x.pcap: no such file',
  });
});

test("DEFAULT_FIXTURE is the repo's fixtures/udp64.pcap", () => {
  assert.equal(DEFAULT_FIXTURE, join(REPO, 'fixtures', 'udp64.pcap'));
  assert.ok(existsSync(DEFAULT_FIXTURE));
});

test('fixturePath uses an existing path as given', async () => {
  await withTempDir(async (dir) => {
    const path = await pcapWith(dir, [frame(60)]);
    assert.equal(fixturePath(path), path);
  });
});

test("fixturePath resolves a bare name in the repo's fixtures", () => {
  assert.equal(fixturePath('mixed'), join(FIXTURES_DIR, 'mixed.pcap'));
});

test("fixturePath resolves a bare file name with .pcap in the repo's fixtures", () => {
  assert.equal(fixturePath('mixed.pcap'), join(FIXTURES_DIR, 'mixed.pcap'));
});

test('fixturePath rejects an unknown name, listing the fixtures that exist', () => {
  assert.throws(
    () => fixturePath('nope'),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(
        err.message,
        "unknown fixture 'nope' (fixtures: imix, mixed, udp64, udp64-flows, udp128, udp256, udp512, udp1024, udp1280, udp1518)",
      );
      return true;
    },
  );
});

test('fixturePath rejects a path that does not exist', () => {
  assert.throws(() => fixturePath('no/such/file.pcap'), {
    name: 'UsageError',
    message:
      'no/such/file.pcap: no such file (fixtures: imix, mixed, udp64, udp64-flows, udp128, udp256, udp512, udp1024, udp1280, udp1518)',
  });
});
