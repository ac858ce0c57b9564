/**
 * capbench's own checks of fastnet-read and fastnet-ring, run inside the test VM (test/vm/run-vm.sh)
 * with kmod/fastnet loaded: the real CLI, the real test bed, exact counts. Not part of `npm test`
 * (the development machine's kernel cannot load modules); `npm run test:vm` runs it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { capbenchLeftovers, cli, runJson } from '../integration/harness.js';

const METHODS = 'fastnet-read,fastnet-ring';

test('the module is loaded', () => {
  assert.ok(existsSync('/dev/fastnet'), 'no /dev/fastnet: the rig loads kmod/fastnet before this test');
});

test('capbench list shows both fastnet methods available', async () => {
  const r = await cli(['list']);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['fastnet-read', 'fastnet-ring']) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} missing from:\n${r.stdout}`);
    assert.match(line, /\savailable\s/, line);
  }
});

test('drain on mixed.pcap: both methods and tiers receive all that was sent and count IPv4 exactly', async () => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods', METHODS, '--mode', 'drain', '--count', '20000', '--fixture', 'mixed', '--tier', 'both',
    '--trials', '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const rows = results.rows.filter((r) => r.method !== 'none');
  assert.deepEqual(rows.map((r) => `${r.method}/${r.tier}`).sort(), [
    'fastnet-read/js', 'fastnet-read/native', 'fastnet-ring/js', 'fastnet-ring/native',
  ]);
  for (const row of rows) {
    const what = `${row.method}/${row.tier}`;
    assert.ok(row.available, `${what}: ${row.reason}`);
    assert.equal(row.sent, 20000, what);
    assert.equal(row.received, row.sent, what);
    assert.equal(row.dropped, 0, what);
    assert.equal(row.dropsSource, 'kernel', what);
    // mixed.pcap: 5 of every 10 frames are untagged IPv4; its VLAN-tagged IPv4 frame must not count.
    assert.equal(row.ipv4Expected, 10000, what);
    assert.equal(row.ipv4Counted, row.ipv4Expected, what);
    assert.ok(row.ok, `${what}: ${row.reason}`);
  }
  assert.deepEqual(capbenchLeftovers(), before);
});

test('live: received + dropped == sent for both methods and tiers', async () => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods', METHODS, '--mode', 'live', '--duration', '2', '--fixture', 'mixed', '--tier', 'both',
    '--trials', '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const rows = results.rows.filter((r) => r.method !== 'none');
  assert.equal(rows.length, 4);
  for (const row of rows) {
    const what = `${row.method}/${row.tier}`;
    assert.ok(row.available && row.ok, `${what}: ${row.reason}`);
    assert.ok(row.sent !== null && row.sent > 0, what);
    assert.equal(row.received + row.dropped, row.sent, `${what}: ${JSON.stringify(row.drops)}`);
    assert.ok(row.received > 0, what);
  }
  assert.deepEqual(capbenchLeftovers(), before);
});
