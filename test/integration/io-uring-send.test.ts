import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, leftoversOf, sendJson } from './harness.js';

const DISABLED = '/proc/sys/kernel/io_uring_disabled';
const METHODS = ['io-uring-send', 'io-uring-send-zc'];

test('io-uring-send and io-uring-send-zc, both tiers: exact counts, every notification in', async () => {
  const { result, results } = await sendJson([
    '--methods',
    METHODS.join(','),
    '--count',
    '20000',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(results.rows.length, 4);
  for (const row of results.rows) {
    const id = `${row.method}/${row.tier}`;
    assert.ok(METHODS.includes(row.method), id);
    assert.equal(row.kind, 'udp', id);
    assert.ok(row.available, `${id}: ${row.reason}`);
    assert.ok(row.ok, `${id}: ${row.failures.join('; ')}`);
    const [t] = row.trials;
    assert.ok(t, id);
    // Exact at the sink and in the twin window, with nothing sent twice or skipped.
    assert.equal(t.stats.taken, row.units, id);
    assert.equal(t.packets, 20000, id);
    assert.equal(t.sink.units + t.sink.drops, t.packets, id);
    assert.equal(t.stats.bytes, t.sink.bytes + t.sink.drops * row.payload!, id);
    assert.ok(t.twin, id);
    assert.equal(t.twin.arrived, t.twin.frames, id);
    // Batches of --batch (64) entries, one io_uring_enter each: far fewer calls than datagrams.
    assert.ok(t.stats.calls > 0 && t.stats.calls < row.units / 8, `${id}: ${t.stats.calls} calls`);
    if (row.method === 'io-uring-send-zc') {
      // Every send taken owes a notification, and finish() waited for all of them.
      assert.equal(t.stats.zcSends, t.stats.taken, id);
      assert.equal(t.stats.zcCompletions, t.stats.zcSends, id);
      assert.ok(t.stats.zcCopied <= t.stats.zcCompletions, id);
      assert.ok(row.summary?.zerocopy, id);
    } else {
      assert.equal(t.stats.zcSends, 0, id);
      assert.equal(t.stats.zcCompletions, 0, id);
    }
  }
  for (const name of METHODS) assert.match(result.stdout, new RegExp(`^${name} `, 'm'));
  assert.deepEqual(leftoversOf(result.pid), []);
});

test('with io_uring disabled the io-uring send methods say why, and the others run', async (t) => {
  // kernel.io_uring_disabled (Linux 6.6): 2 refuses io_uring_setup to everyone, root included.
  if (!existsSync(DISABLED)) {
    t.skip('this kernel has no kernel.io_uring_disabled');
    return;
  }
  const before = readFileSync(DISABLED, 'utf8').trim();
  writeFileSync(DISABLED, '2');
  try {
    // Named alone: refused before anything is created, in one line.
    for (const methods of ['io-uring-send', 'io-uring-send-zc', 'udp-send,io-uring-send']) {
      const r = await cli(['send', '--methods', methods, '--count', '1000', '--trials', '1']);
      assert.equal(r.code, 2, `${methods}: exit ${r.code}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${methods}: one line, not: ${r.stderr}`);
      assert.match(
        lines[0]!,
        /--methods io-uring-send(-zc)?: it cannot run here: io_uring_setup \(io_uring is disabled: sysctl kernel\.io_uring_disabled\)/,
      );
      assert.equal(r.stdout, '');
      assert.deepEqual(leftoversOf(r.pid), []);
    }

    // Not named (every method): rows that say why, beside the ones that run.
    const { result, results } = await sendJson([
      '--methods',
      'all',
      '--count',
      '1000',
      '--trials',
      '1',
      '--tier',
      'js',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    for (const name of METHODS) {
      const row = results.rows.find((r) => r.method === name);
      assert.ok(row, name);
      assert.equal(row.available, false, name);
      assert.match(row.reason ?? '', /kernel\.io_uring_disabled/, name);
    }
    const udp = results.rows.find((r) => r.method === 'udp-send');
    assert.ok(udp?.ok, `udp-send: ${udp?.failures.join('; ')}`);
    assert.deepEqual(leftoversOf(result.pid), []);
  } finally {
    writeFileSync(DISABLED, before);
  }
  assert.equal(readFileSync(DISABLED, 'utf8').trim(), before);
});
