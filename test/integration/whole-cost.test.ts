import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results } from '../../src/core/results.js';
import { leftoversOf, runJson } from './harness.js';

/** Every row that ran carries deliver, read and total, with total their sum and deliver's source. */
function assertWholeCost(results: Results, source: string): void {
  for (const row of results.rows.filter((r) => r.available && r.method !== 'none')) {
    const what = `${row.method}/${row.tier}/${row.mode}`;
    const c = row.cyclesPerPacket;
    assert.ok(row.ok, `${what}: ${row.reason}`);
    assert.ok(
      c.deliver !== null && c.read !== null && c.total !== null,
      `${what}: ${JSON.stringify(c)}`,
    );
    assert.ok(Math.abs(c.total - (c.deliver + c.read)) < 1e-6, what);
    assert.ok(c.read > 0, what);
    assert.equal(c.deliverSource, source, what);
    assert.ok(c.totalRme !== null, what);
    // Bringing a frame into a socket's queue or a ring is real work on the sender's CPU.
    if (row.method === 'socket' || row.method === 'packet-mmap')
      assert.ok(c.deliver > 0, `${what}: deliver ${c.deliver}`);
    for (const t of row.trials) assert.ok(t.delivery !== null && t.delivery.senderSec > 0, what);
  }
  const none = results.rows.find((r) => r.method === 'none');
  if (none) assert.equal(none.cyclesPerPacket.deliver, 0);
}

test('drain: every row is charged its delivery against the twin veth, and total = deliver + read', async () => {
  const { result, results } = await runJson([
    '--methods',
    'none,socket,packet-mmap,pcap-native',
    '--count',
    '20000',
    '--trials',
    '2',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(results.schema, 'capbench.results/3');
  assertWholeCost(results, 'sender-clocks-vs-twin');
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    for (const t of row.trials)
      assert.ok(t.delivery!.twinSent! > 0 && t.delivery!.twinSec! > 0, row.method);
  }
  assert.match(result.stdout, /cyc\/pkt deliver +read +total/);
  assert.deepEqual(leftoversOf(result.pid), []);
});

test('live: every row is charged its delivery against the none baseline, and total = deliver + read', async () => {
  // Against separate none windows live deliver carries their drift: 6 s of windows a row keep a
  // ring's few hundred cycles clear of it (two 1 s windows once gave -189).
  const { result, results } = await runJson([
    '--methods',
    'socket,packet-mmap',
    '--mode',
    'live',
    '--rate',
    '100000',
    '--duration',
    '2',
    '--trials',
    '3',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assertWholeCost(results, 'sender-clocks-vs-none');
  for (const row of results.rows)
    for (const t of row.trials) assert.equal(t.delivery!.twinSec, null);
  assert.deepEqual(leftoversOf(result.pid), []);
});
