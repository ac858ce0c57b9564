import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { countTable, doSomething } from '../../src/core/counter.js';
import { native } from '../../src/native/binding.js';
import { FIXTURES_DIR, loadFixture } from '../../src/net/fixture.js';

function tableOf(lengths: Uint32Array): Uint32Array {
  const table = new Uint32Array(lengths.length * 2);
  let offset = 0;
  lengths.forEach((len, i) => {
    table[2 * i] = offset;
    table[2 * i + 1] = len;
    offset += len;
  });
  return table;
}

for (const file of readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.pcap'))) {
  test(`TS and C counters agree on ${file}`, async () => {
    const fx = await loadFixture(join(FIXTURES_DIR, file));
    const table = tableOf(fx.lengths);
    const ts = countTable(fx.concatenated, table, fx.lengths.length);
    const c = native().countTable(fx.concatenated, table, fx.lengths.length);
    assert.equal(ts, c);
    assert.equal(ts, fx.ipv4PerCycle);
  });
}

test('a frame shorter than an Ethernet header never counts, in either counter', () => {
  const frame = new Uint8Array(13);
  frame[12] = 0x08;
  assert.equal(doSomething(frame, 0, 13), 0);
  assert.equal(native().countTable(frame, Uint32Array.of(0, 13), 1), 0);
});

test('a VLAN-tagged IPv4 frame does not count: bytes 12-13 are 0x8100', () => {
  const frame = new Uint8Array(64);
  frame.set([0x81, 0x00, 0x00, 0x64, 0x08, 0x00], 12);
  assert.equal(doSomething(frame, 0, 64), 0);
  assert.equal(native().countTable(frame, Uint32Array.of(0, 64), 1), 0);
});

test('the C counter refuses a table entry that points outside the buffer', () => {
  assert.throws(() => native().countTable(new Uint8Array(60), Uint32Array.of(10, 60), 1));
});
