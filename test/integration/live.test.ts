import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row } from '../../src/core/results.js';
import { runJson } from './harness.js';

function assertAccounted(row: Row): void {
  const what = `${row.method}/${row.tier}`;
  assert.ok(row.available, `${what}: ${row.reason}`);
  assert.ok(row.sent !== null && row.sent > 0, what);
  assert.ok(row.dropped !== null && row.drops.method !== null, `${what}: drops unknown`);
  assert.equal(row.received + row.dropped, row.sent, what);
  assert.equal(row.dropped, row.drops.senderIf + row.drops.captureIf + row.drops.method, what);
  assert.ok(row.ok, `${what}: ${row.reason}`);
}

test('live at the maximum rate: received + dropped == sent for every row', async () => {
  const { result, results } = await runJson([
    '--methods',
    'socket,socket-mmsg,io-uring,pcap,pcap-native',
    '--mode',
    'live',
    '--duration',
    '1',
    '--fixture',
    'mixed',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of results.rows.filter(
    (r) => r.method !== 'none' && !(r.method === 'pcap' && r.tier === 'native'),
  )) {
    assertAccounted(row);
  }
});

test('live at a modest rate: nothing dropped and IPv4 counted exactly', async () => {
  const { result, results } = await runJson([
    '--methods',
    'socket-mmsg,io-uring,pcap-native',
    '--mode',
    'live',
    '--duration',
    '1',
    '--rate',
    '20000',
    '--fixture',
    'mixed',
    '--trials',
    '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    assertAccounted(row);
    assert.equal(row.dropped, 0, row.method);
    assert.equal(row.ipv4Counted, row.ipv4Expected, row.method);
    // Paced at 20 kpps for 1 s: the window must reflect the offered rate, give or take pacing.
    assert.ok(row.sent! > 15000 && row.sent! < 25000, `${row.method}: sent ${row.sent}`);
    // Frames carry their send time: every live js row reports send-to-counter latency.
    assert.ok(row.latency !== null && row.latency.samples > 0, `${row.method}: no latency`);
    assert.ok(
      row.latency.p50Ns > 0 && row.latency.p50Ns <= row.latency.p99Ns && row.latency.p99Ns < 1e9,
      JSON.stringify(row.latency),
    );
  }
});
