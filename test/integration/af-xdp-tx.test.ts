import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { leftoversOf, machineState, sendJson, startCli } from './harness.js';

/**
 * AF_XDP sockets open in a network namespace (null: this one), from the kernel's per-namespace
 * socket count in /proc/net/protocols: `ss --xdp` needs XDP socket diagnostics, which this
 * kernel lacks. 0 when the namespace is gone.
 */
function xdpSockets(netns: string | null): number {
  let text: string;
  try {
    text =
      netns === null
        ? readFileSync('/proc/net/protocols', 'utf8')
        : execFileSync('ip', ['netns', 'exec', netns, 'cat', '/proc/net/protocols'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          });
  } catch {
    return 0;
  }
  const line = text.split('\n').find((l) => l.startsWith('XDP '));
  assert.ok(line, 'this kernel lists no XDP protocol in /proc/net/protocols');
  return Number(line.split(/\s+/)[2]);
}

/** The test bed namespace of the capbench process with this pid (see leftoversOf), if it exists. */
function testbedNetns(pid: number): string | undefined {
  const tag = new RegExp(`^capbench-${pid.toString(36)}[0-9a-z]{3}$`);
  return machineState().netns.find((n) => tag.test(n));
}

for (const fixture of ['udp64', 'mixed']) {
  test(`af-xdp-tx on ${fixture}, both tiers: every frame completed, exact counts at the sink`, async () => {
    const count = 20_000;
    const { result, results } = await sendJson([
      '--methods',
      'af-xdp-tx',
      '--fixture',
      fixture,
      '--count',
      String(count),
      '--trials',
      '2',
      '--tier',
      'both',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual(
      results.rows.map((r) => `${r.method}/${r.tier}`),
      ['af-xdp-tx/js', 'af-xdp-tx/native'],
    );
    for (const row of results.rows) {
      const id = `${row.method}/${row.tier}`;
      assert.ok(row.available, `${id}: ${row.reason}`);
      assert.ok(row.ok, `${id}: ${row.failures.join('; ')}`);
      assert.equal(row.kind, 'frames', id);
      assert.equal(row.trials.length, 2, id);
      for (const t of row.trials) {
        // taken is completions: exact once finish() has waited for every descriptor.
        assert.equal(t.stats.taken, count, id);
        assert.equal(t.packets, count, id);
        assert.equal(t.sink.units + t.sink.drops, count, id);
        assert.ok(t.sink.ipv4 <= t.expectedIpv4!, id);
        assert.ok(t.sink.ipv4 + t.sink.drops >= t.expectedIpv4!, id);
        if (t.sink.drops === 0) assert.equal(t.sink.ipv4, t.expectedIpv4, id);
        assert.equal(t.twin!.arrived, t.twin!.frames, id);
        // One kick per batch of 64 at least; no MSG_ZEROCOPY.
        assert.ok(t.stats.calls >= Math.ceil(count / 64), `${id}: ${t.stats.calls} kicks`);
        assert.equal(t.stats.zcSends, 0, id);
        assert.equal(t.stats.zcCompletions, 0, id);
      }
    }
    assert.match(result.stdout, /^af-xdp-tx +js /m);
    assert.match(result.stdout, /^af-xdp-tx +native /m);
    assert.deepEqual(leftoversOf(result.pid), []);
  });
}

test('SIGINT mid-send leaves no namespace, veth or AF_XDP socket behind', async () => {
  const before = xdpSockets(null);
  const run = startCli([
    'send',
    '--methods',
    'af-xdp-tx',
    '--count',
    '2000000',
    '--trials',
    '3',
    '--tier',
    'both',
  ]);
  const pid = run.child.pid!;
  // Interrupt while the socket is open: wait until the test bed's namespace has one.
  let seen = 0;
  const deadline = Date.now() + 15_000;
  while (seen === 0 && Date.now() < deadline && run.child.exitCode === null) {
    const netns = testbedNetns(pid);
    if (netns !== undefined) seen = xdpSockets(netns);
    if (seen === 0) await sleep(20);
  }
  run.child.kill('SIGINT');
  const result = await run.done;
  assert.ok(seen > 0, `never saw the AF_XDP socket open: ${result.stderr}`);
  if (result.signal !== null) assert.equal(result.signal, 'SIGINT');
  else {
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted by SIGINT/);
  }
  assert.deepEqual(leftoversOf(pid), []);
  assert.equal(testbedNetns(pid), undefined);
  assert.equal(xdpSockets(null), before);
});
