import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leftoversOf, runJson } from './harness.js';

test('drain on mixed.pcap: every method and tier receives all it was sent and counts IPv4 exactly', async () => {
  const { result, results } = await runJson([
    '--methods',
    'none,socket,socket-mmsg,io-uring,pcap,pcap-native',
    '--mode',
    'drain',
    '--count',
    '20000',
    '--fixture',
    'mixed',
    '--trials',
    '2',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(results.schema, 'capbench.results/3');
  const ran = results.rows.filter((r) => r.available);
  // pcap has no native tier; everything else must have run here.
  assert.deepEqual(
    results.rows.filter((r) => !r.available).map((r) => `${r.method}/${r.tier}`),
    ['pcap/native'],
  );
  for (const row of ran) {
    const what = `${row.method}/${row.tier}`;
    assert.equal(row.sent, 40000, what);
    assert.equal(row.received, row.sent, what);
    assert.equal(row.dropped, 0, what);
    assert.ok(row.ok, `${what}: ${row.reason}`);
    if (row.method !== 'none') {
      assert.equal(row.ipv4Expected, 20000, what); // mixed.pcap: 5 of every 10 frames are untagged IPv4
      assert.equal(row.ipv4Counted, row.ipv4Expected, what);
      assert.ok(row.pps !== null && row.pps > 0, what);
      assert.equal(row.trials.length, 2, what);
    }
  }
  assert.deepEqual(leftoversOf(result.pid), []);
});
