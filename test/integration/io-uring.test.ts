import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, leftoversOf, runJson } from './harness.js';

const DISABLED = '/proc/sys/kernel/io_uring_disabled';

test('io-uring where io_uring is disabled: its row says why, the others run', async (t) => {
  // kernel.io_uring_disabled (Linux 6.6): 2 refuses io_uring_setup to everyone, root included.
  if (!existsSync(DISABLED)) {
    t.skip('this kernel has no kernel.io_uring_disabled');
    return;
  }
  const before = readFileSync(DISABLED, 'utf8').trim();
  writeFileSync(DISABLED, '2');
  try {
    const list = await cli(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /io-uring .*unavailable[^]*why: io_uring_setup \(io_uring is disabled: sysctl kernel\.io_uring_disabled\)/,
    );

    const { result, results } = await runJson([
      '--methods',
      'socket-mmsg,io-uring',
      '--count',
      '2000',
      '--trials',
      '1',
      '--tier',
      'both',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    for (const row of results.rows.filter((r) => r.method === 'io-uring')) {
      assert.equal(row.available, false, row.tier);
      assert.match(row.reason ?? '', /kernel\.io_uring_disabled/, row.tier);
    }
    const ran = results.rows.filter((r) => r.method === 'socket-mmsg');
    assert.equal(ran.length, 2);
    for (const row of ran) assert.ok(row.ok, `${row.tier}: ${row.reason}`);
    assert.deepEqual(leftoversOf(result.pid), []);
  } finally {
    writeFileSync(DISABLED, before);
  }
  assert.equal(readFileSync(DISABLED, 'utf8').trim(), before);
});

test('io-uring drains exactly in both tiers, with io_uring calls, not one per frame', async () => {
  const { result, results } = await runJson([
    '--methods',
    'io-uring',
    '--count',
    '20000',
    '--fixture',
    'mixed',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const rows = results.rows.filter((r) => r.method === 'io-uring');
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.ok(row.ok, `${row.tier}: ${row.reason}`);
    assert.equal(row.received, 20000, row.tier);
    assert.equal(row.ipv4Counted, 10000, row.tier); // the VLAN frame is put back as on the wire
    // One multishot recvmsg takes hundreds of frames; its re-arms and waits are the only calls.
    const calls = row.explain?.callsPerPacket ?? null;
    assert.ok(calls !== null && calls > 0 && calls < 0.05, `${row.tier}: calls/pkt ${calls}`);
  }
});
