import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { SEND_METHOD_NAMES } from '../../src/core/send-config.js';
import { assertRefused, leftoversOf, sendJson, startCli } from './harness.js';

test('every send method, both tiers: exact counts at the sink, zero-copy completions all reaped', async () => {
  const { result, results } = await sendJson([
    '--count',
    '3000',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(results.schema, 'capbench.send/1');
  assert.deepEqual([...new Set(results.rows.map((r) => r.method))], [...SEND_METHOD_NAMES]);
  for (const row of results.rows) {
    const id = `${row.method}/${row.tier}`;
    // fastnet's module cannot be loaded on this kernel: test:vm runs that row in a VM.
    if (row.method === 'fastnet-inject' && !existsSync('/dev/fastnet')) {
      assert.equal(row.available, false, id);
      assert.match(row.reason ?? '', /fastnet/, id);
      continue;
    }
    assert.ok(row.available, `${id}: ${row.reason}`);
    assert.ok(row.ok, `${id}: ${row.failures.join('; ')}`);
    const [t] = row.trials;
    assert.ok(t, id);
    assert.equal(t.stats.taken, row.units, id);
    if (row.kind === 'tcp') {
      assert.equal(t.sink.bytes, t.stats.bytes, id);
      assert.ok(t.sink.eof, id);
      assert.ok(t.stats.segsOut > 0, id);
    } else {
      assert.equal(t.sink.units + t.sink.drops, t.packets, id);
    }
    if (row.kind === 'frames') assert.equal(t.sink.ipv4, t.expectedIpv4, id);
    if (/-zerocopy$|-zc$/.test(row.method)) {
      assert.ok(t.stats.zcSends > 0, id);
      assert.equal(t.stats.zcCompletions, t.stats.zcSends, id);
      assert.ok(t.stats.zcCopied <= t.stats.zcCompletions, id);
    } else {
      assert.equal(t.stats.zcSends, 0, id);
    }
    assert.ok(t.senderSec > 0 && t.elapsedSec > 0, id);
  }
  // The table names every row and the header says where cycles come from.
  assert.match(result.stdout, /cycles: CPU time × TSC of the sending thread and ksoftirqd/);
  for (const name of SEND_METHOD_NAMES) assert.match(result.stdout, new RegExp(`^${name} `, 'm'));
  assert.deepEqual(leftoversOf(result.pid), []);
});

test('udp-gso counts its segments, and sendmmsg and the TX ring their batches', async () => {
  const { result, results } = await sendJson([
    '--methods',
    'udp-gso,packet-sendmmsg,packet-tx-ring',
    '--payload',
    '14720',
    '--count',
    '5000',
    '--batch',
    '32',
    '--qdisc-bypass',
    '--fixture',
    'mixed',
    '--trials',
    '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const gso = results.rows.find((r) => r.method === 'udp-gso')!;
  // 5,000 datagrams are 500 calls of 10 segments of 1,472 bytes.
  assert.equal(gso.units, 500);
  assert.equal(gso.trials[0]!.packets, 5000);
  assert.equal(gso.trials[0]!.sink.units + gso.trials[0]!.sink.drops, 5000);
  assert.equal(gso.trials[0]!.sink.bytes, 500 * 14720);
  const mmsg = results.rows.find((r) => r.method === 'packet-sendmmsg')!;
  assert.ok(mmsg.trials[0]!.stats.calls <= 5000 / 32 + mmsg.trials[0]!.stats.retries + 1);
  for (const row of results.rows) assert.ok(row.ok, `${row.method}: ${row.failures.join('; ')}`);
  assert.match(result.stdout, /bypass the qdisc/);
});

test('large TCP writes arrive whole, plain and zero-copy', async () => {
  const { result, results } = await sendJson([
    '--methods',
    'tcp-send,tcp-zerocopy',
    '--payload',
    '262144',
    '--count',
    '200',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of results.rows) {
    assert.ok(row.ok, `${row.method}/${row.tier}: ${row.failures.join('; ')}`);
    assert.equal(row.trials[0]!.sink.bytes, 200 * 262144);
  }
});

test('a UDP payload above 65,507 bytes is refused', () =>
  assertRefused(
    ['send', '--methods', 'udp-send', '--payload', '70000'],
    /--payload 70000 is more than udp-send can send in one call: at most 65507 bytes/,
  ));

test('a TCP write above 1 MiB is refused', () =>
  assertRefused(
    ['send', '--methods', 'tcp-send', '--payload', '2000000'],
    /--payload 2000000 is more than tcp-send can send in one call: at most 1048576 bytes/,
  ));

test('a GSO call of more segments than UDP_SEGMENT takes is refused', () =>
  assertRefused(
    ['send', '--methods', 'udp-gso', '--payload', '65000', '--gso-size', '100'],
    /650 segments: UDP_SEGMENT takes at most 64 per call/,
  ));

test('bad send options are one line each', async () => {
  await assertRefused(
    ['send', '--methods', 'pigeon'],
    /unknown send method 'pigeon': choose from packet-send/,
  );
  await assertRefused(['send', '--gso-size', '1500'], /--gso-size must be at most 1472/);
  await assertRefused(['send', '--batch', '0'], /--batch must be a positive whole number/);
  await assertRefused(['send', '--payload', 'big'], /--payload must be a positive whole number/);
});

test('without root, send names the missing capabilities and creates nothing', () =>
  assertRefused(
    ['send', '--methods', 'udp-send', '--count', '100'],
    /capbench send needs CAP_NET_ADMIN and CAP_NET_RAW and CAP_SYS_ADMIN: run as root/,
    [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
    ],
  ));

for (const at of [300, 1200]) {
  test(`SIGINT ${at} ms into a send leaves no namespace, veth or socket behind`, async () => {
    const run = startCli([
      'send',
      '--methods',
      'packet-tx-ring,udp-zerocopy,tcp-zerocopy',
      '--count',
      '400000',
      '--trials',
      '3',
      '--tier',
      'both',
    ]);
    await sleep(at);
    run.child.kill('SIGINT');
    const result = await run.done;
    if (result.signal !== null) assert.equal(result.signal, 'SIGINT');
    else if (result.code !== 0) {
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /interrupted by SIGINT/);
    }
    assert.deepEqual(leftoversOf(result.pid), []);
  });
}
