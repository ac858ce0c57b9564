import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/shared/errors.js';
import {
  readPcap,
  readPcapFile,
  writePcap,
  writePcapFile,
  type PcapFile,
} from '../../src/net/pcap-file.js';

function sample(byteOrder: 'le' | 'be', resolution: 'us' | 'ns'): PcapFile {
  const maxFrac = resolution === 'ns' ? 999_999_999 : 999_999;
  return {
    byteOrder,
    resolution,
    snaplen: 1600,
    linkType: 1,
    records: [
      {
        tsSec: 1_704_067_200,
        tsFrac: 0,
        origLen: 60,
        data: Uint8Array.from({ length: 60 }, (_, i) => i),
      },
      { tsSec: 0xffffffff, tsFrac: maxFrac, origLen: 1514, data: new Uint8Array(1514).fill(0xab) },
      // A snapped record: fewer bytes captured than were on the wire.
      { tsSec: 1, tsFrac: 123, origLen: 9000, data: new Uint8Array(1600).fill(7) },
      { tsSec: 2, tsFrac: 1, origLen: 0, data: new Uint8Array(0) },
    ],
  };
}

function assertUsage(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

/** A valid little-endian microsecond file with two records of 98 and 60 bytes. */
function twoRecords(): Uint8Array {
  return writePcap({
    byteOrder: 'le',
    resolution: 'us',
    snaplen: 65535,
    linkType: 1,
    records: [
      { tsSec: 1, tsFrac: 0, origLen: 98, data: new Uint8Array(98) },
      { tsSec: 1, tsFrac: 1, origLen: 98, data: new Uint8Array(98) },
    ],
  });
}

for (const byteOrder of ['le', 'be'] as const) {
  for (const resolution of ['us', 'ns'] as const) {
    test(`round trip keeps every field (${byteOrder}, ${resolution})`, () => {
      const file = sample(byteOrder, resolution);
      assert.deepEqual(readPcap(writePcap(file), 'x.pcap'), file);
    });
  }
}

test('writes the standard magic bytes for each byte order and resolution', () => {
  const magic = (o: 'le' | 'be', r: 'us' | 'ns') => [
    ...writePcap({ ...sample(o, r), records: [] }).subarray(0, 4),
  ];
  assert.deepEqual(magic('le', 'us'), [0xd4, 0xc3, 0xb2, 0xa1]);
  assert.deepEqual(magic('be', 'us'), [0xa1, 0xb2, 0xc3, 0xd4]);
  assert.deepEqual(magic('le', 'ns'), [0x4d, 0x3c, 0xb2, 0xa1]);
  assert.deepEqual(magic('be', 'ns'), [0xa1, 0xb2, 0x3c, 0x4d]);
});

test('reads a hand-built big-endian microsecond file', () => {
  const bytes = Uint8Array.from([
    0xa1,
    0xb2,
    0xc3,
    0xd4,
    0x00,
    0x02,
    0x00,
    0x04, // magic, version 2.4
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0, // thiszone, sigfigs
    0x00,
    0x00,
    0xff,
    0xff,
    0x00,
    0x00,
    0x00,
    0x01, // snaplen 65535, Ethernet
    0x65,
    0x92,
    0x00,
    0x80,
    0x00,
    0x00,
    0x00,
    0x2a, // ts 0x65920080 s + 42 us
    0x00,
    0x00,
    0x00,
    0x04,
    0x00,
    0x00,
    0x00,
    0x3c, // 4 captured of 60
    0xde,
    0xad,
    0xbe,
    0xef,
  ]);
  assert.deepEqual(readPcap(bytes, 'be.pcap'), {
    byteOrder: 'be',
    resolution: 'us',
    snaplen: 65535,
    linkType: 1,
    records: [
      {
        tsSec: 0x65920080,
        tsFrac: 42,
        origLen: 60,
        data: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
      },
    ],
  });
});

test('reads a file with a header and no records as zero records', () => {
  assert.deepEqual(
    readPcap(writePcap({ ...sample('le', 'us'), records: [] }), 'x.pcap').records,
    [],
  );
});

test('records are copies, not views of the input, also when it is a Buffer', () => {
  const bytes = Buffer.from(twoRecords()); // what readFile hands over; Buffer.slice is a view
  const file = readPcap(bytes, 'x.pcap');
  bytes.fill(0xff);
  assert.equal(file.records[0]!.data[0], 0);
});

test('rejects an empty file', () => {
  assertUsage(() => readPcap(new Uint8Array(0), 'e.pcap'), 'e.pcap: empty file, not a pcap file');
});

test('rejects a 10-byte file with a valid magic as a truncated file header', () => {
  assertUsage(
    () => readPcap(twoRecords().subarray(0, 10), 'short.pcap'),
    'short.pcap: truncated in the file header (needs 24 bytes, 10 present)',
  );
});

test('rejects a bad magic, naming it', () => {
  const bytes = twoRecords();
  bytes.set([0x12, 0x34, 0xab, 0xcd], 0);
  assertUsage(() => readPcap(bytes, 'x.pcap'), 'x.pcap: not a pcap file (magic 0x1234abcd)');
});

test('rejects pcapng, saying it is pcapng', () => {
  const bytes = new Uint8Array(28);
  bytes.set([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a], 0);
  assertUsage(
    () => readPcap(bytes, 'x.pcapng'),
    'x.pcapng: is pcapng, only classic pcap is supported (convert with: editcap -F pcap in.pcapng out.pcap)',
  );
});

test('rejects an unsupported major version', () => {
  const bytes = twoRecords();
  bytes.set([3, 0], 4);
  assertUsage(() => readPcap(bytes, 'x.pcap'), 'x.pcap: unsupported pcap version 3.4 (only 2.x)');
});

test('rejects a truncated record header', () => {
  const whole = twoRecords();
  const bytes = whole.subarray(0, 24 + 16 + 98 + 5);
  assertUsage(
    () => readPcap(bytes, 'x.pcap'),
    'x.pcap: truncated in record 2 (record header needs 16 bytes, 5 left)',
  );
});

test('rejects truncated record data, saying how much is missing', () => {
  const bytes = twoRecords().subarray(0, 24 + 16 + 98 + 16 + 40);
  assertUsage(
    () => readPcap(bytes, 'x.pcap'),
    'x.pcap: truncated in record 2 (header says 98 bytes, 40 left)',
  );
});

test('rejects a captured length above the snaplen as corrupt', () => {
  const bytes = twoRecords();
  new DataView(bytes.buffer).setUint32(16, 64, true);
  assertUsage(
    () => readPcap(bytes, 'x.pcap'),
    "x.pcap: corrupt record 1 (captured length 98 exceeds the file's snaplen 64)",
  );
});

test('writePcap refuses a record longer than the snaplen', () => {
  const file = sample('le', 'us');
  assert.throws(() => writePcap({ ...file, snaplen: 100 }), RangeError);
});

test('writePcap refuses a fraction beyond the resolution', () => {
  const file = sample('le', 'us');
  file.records[0]!.tsFrac = 1_000_000;
  assert.throws(() => writePcap(file), /tsFrac 1000000 is not below 1000000 \(us\)/);
});

test('readPcapFile names a missing file', async () => {
  await assert.rejects(readPcapFile('/nonexistent/dir/x.pcap'), {
    name: 'UsageError',
    message: '/nonexistent/dir/x.pcap: no such file',
  });
});

test('writePcapFile then readPcapFile round trips and leaves no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'capbench-pcap-'));
  try {
    const file = sample('be', 'ns');
    await writePcapFile(join(dir, 'out.pcap'), file);
    assert.deepEqual(await readPcapFile(join(dir, 'out.pcap')), file);
    assert.deepEqual(await readdir(dir), ['out.pcap']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writePcapFile removes its temp file when the final rename fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'capbench-pcap-'));
  try {
    // rename() of a file onto a non-empty directory fails after the temp file is written.
    await mkdir(join(dir, 'out.pcap', 'occupied'), { recursive: true });
    await assert.rejects(writePcapFile(join(dir, 'out.pcap'), sample('le', 'us')));
    assert.deepEqual(await readdir(dir), ['out.pcap']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
