import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Row } from '../../src/core/results.js';
import { capbenchLeftovers, cli, runJson, startCli } from './harness.js';

/**
 * Nothing of ours is left. Other runs on the machine (other engineers, CI) create test beds too:
 * one that appears and vanishes again was theirs, so new names get up to 30 s to go away; a bed
 * this run leaked never does.
 */
async function assertNothingLeft(before: string[]): Promise<void> {
  let extra: string[] = [];
  for (let waited = 0; waited <= 30_000; waited += 500) {
    extra = capbenchLeftovers().filter((n) => !before.includes(n));
    if (extra.length === 0) return;
    await sleep(500);
  }
  assert.deepEqual(extra, [], 'left behind');
}

function rowsOf(rows: Row[]): Row[] {
  const mine = rows.filter((r) => r.method === 'packet-mmap');
  assert.deepEqual(mine.map((r) => r.tier).sort(), ['js', 'native']);
  return mine;
}

test('packet-mmap drain on mixed.pcap: both tiers receive every frame and count IPv4 exactly', async () => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods',
    'packet-mmap',
    '--mode',
    'drain',
    '--count',
    '20000',
    '--fixture',
    'mixed',
    '--trials',
    '3',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of rowsOf(results.rows)) {
    const what = `packet-mmap/${row.tier}`;
    assert.ok(row.available, `${what}: ${row.reason}`);
    assert.equal(row.sent, 60000, what);
    assert.equal(row.received, row.sent, what);
    assert.equal(row.dropped, 0, what);
    assert.equal(row.dropsSource, 'kernel', what);
    // 5 of every 10 frames of mixed.pcap are untagged IPv4; the 802.1Q-tagged IPv4 frame, whose
    // tag the kernel strips into the frame's header (TP_STATUS_VLAN_VALID), must not count.
    assert.equal(row.ipv4Expected, 30000, what);
    assert.equal(row.ipv4Counted, row.ipv4Expected, what);
    assert.ok(row.pps !== null && row.pps > 0, what);
    assert.equal(row.trials.length, 3, what);
    assert.ok(row.ok, `${what}: ${row.reason}`);
  }
  await assertNothingLeft(before);
});

test('packet-mmap live at the maximum rate: received + dropped == sent in both tiers', async () => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods',
    'packet-mmap',
    '--mode',
    'live',
    '--duration',
    '2',
    '--fixture',
    'mixed',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of rowsOf(results.rows)) {
    const what = `packet-mmap/${row.tier}`;
    assert.ok(row.available, `${what}: ${row.reason}`);
    assert.ok(row.sent !== null && row.sent > 0, what);
    assert.ok(row.dropped !== null && row.drops.method !== null, `${what}: drops unknown`);
    assert.equal(row.received + row.dropped, row.sent, what);
    assert.equal(row.dropped, row.drops.senderIf + row.drops.captureIf + row.drops.method, what);
    assert.equal(row.dropsSource, 'kernel', what);
    assert.ok(row.ok, `${what}: ${row.reason}`);
  }
  await assertNothingLeft(before);
});

test('packet-mmap live at a modest rate: nothing dropped, IPv4 exact, js tier reports latency', async () => {
  const { result, results } = await runJson([
    '--methods',
    'packet-mmap',
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
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of rowsOf(results.rows)) {
    const what = `packet-mmap/${row.tier}`;
    assert.equal(row.dropped, 0, what);
    assert.equal(row.received, row.sent, what);
    assert.equal(row.ipv4Counted, row.ipv4Expected, what);
    if (row.tier === 'js') {
      // Blocks retire within a few ms (short live retire timeout): latency stays well under 100 ms.
      assert.ok(row.latency !== null && row.latency.samples > 0, `${what}: no latency`);
      assert.ok(row.latency.p99Ns < 100e6, `${what}: ${JSON.stringify(row.latency)}`);
    }
  }
});

test('packet-mmap --ring-mb: a --count that does not fit is refused with the largest that does, which runs exactly', async () => {
  const before = capbenchLeftovers();
  const refused = await cli([
    'run',
    '--methods',
    'packet-mmap',
    '--mode',
    'drain',
    '--ring-mb',
    '1',
    '--count',
    '100000',
    '--no-color',
  ]);
  assert.equal(refused.code, 2, refused.stderr + refused.stdout);
  const m =
    /--count 100000 does not fit in packet-mmap's kernel buffer: at most (\d+) frames of (\d+) bytes/.exec(
      refused.stderr,
    );
  assert.ok(m, refused.stderr);
  const most = Number(m[1]);
  // A 1 MiB ring holds at most 1 MiB / 144 bytes of 60-byte frames (each takes 144 in a block).
  assert.ok(most > 1000 && most < 2 ** 20 / 144, `at most ${most}`);
  await assertNothingLeft(before);

  // The largest count it names really fits: nothing dropped, in either tier.
  const { result, results } = await runJson([
    '--methods',
    'packet-mmap',
    '--mode',
    'drain',
    '--ring-mb',
    '1',
    '--count',
    String(most),
    '--trials',
    '2',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of rowsOf(results.rows)) {
    assert.equal(row.received, 2 * most, row.tier);
    assert.equal(row.dropped, 0, row.tier);
    assert.ok(row.ok, `${row.tier}: ${row.reason}`);
  }
  await assertNothingLeft(before);
});

for (const [mode, at] of [
  ['drain', 1500],
  ['live', 2500],
] as const) {
  test(`packet-mmap: SIGINT ${at} ms into a ${mode} run exits 130 and leaves nothing behind`, async () => {
    const before = capbenchLeftovers();
    const run = startCli([
      'run',
      '--methods',
      'packet-mmap',
      '--mode',
      mode,
      '--count',
      '1000000',
      '--duration',
      '3',
      '--trials',
      '3',
      '--tier',
      'both',
    ]);
    await sleep(at);
    run.child.kill('SIGINT');
    const result = await run.done;
    if (result.code !== 0) {
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /interrupted by SIGINT/);
    }
    await assertNothingLeft(before);
  });
}
