/**
 * --threads 2: every method that can spread reads with two reader threads, in both tiers and both
 * modes, with exact counts and closed accounting, the sum in the row and each thread in JSON.
 * Methods that cannot spread say why; a reader that fails fails its row and leaves nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import type { Row } from '../../src/core/results.js';
import { runBenchmark } from '../../src/core/runner.js';
import { realMachine } from '../../src/core/real-machine.js';
import { METHODS } from '../../src/methods/registry.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { installReaderScript } from '../../src/methods/reader-pool.js';
import { capbenchLeftovers, cli, leftoversOf, runJson, startCli } from './harness.js';

const SPREAD = 'none,socket,socket-mmsg,io-uring,packet-mmap,af-xdp';

function assertSpread(row: Row, threads: number): void {
  const what = `${row.method}/${row.tier}/${row.mode}`;
  assert.ok(row.available && row.ok, `${what}: ${row.reason}`);
  assert.equal(row.threads, threads, what);
  assert.ok(row.sent !== null && row.dropped !== null, what);
  assert.equal(row.received + row.dropped, row.sent, `${what}: sent = received + drops`);
  assert.equal(row.ipv4Counted, row.ipv4Expected, what);
  const shares = row.perThread;
  assert.ok(shares && shares.length === threads, `${what}: per-thread shares`);
  // The row is the sum of its threads, trial by trial and in all.
  assert.equal(
    shares.reduce((a, s) => a + s.received, 0),
    row.received,
    what,
  );
  for (const t of row.trials) {
    assert.equal(
      t.perThread!.reduce((a, s) => a + s.received, 0),
      t.received,
      what,
    );
    assert.ok(
      t.perThread!.every((s) => s.cpuSec >= 0),
      what,
    );
  }
}

test('drain, --threads 2 --fanout lb: both threads read, counts exact, both tiers', async () => {
  const { result, results } = await runJson([
    '--methods',
    SPREAD,
    '--threads',
    '2',
    '--fanout',
    'lb',
    '--gen-threads',
    '2',
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
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    assertSpread(row, 2);
    assert.equal(row.received, 40000, row.method);
    if (row.method !== 'af-xdp') {
      // Round robin over two sockets: half each, give or take the frames in flight when it turned.
      for (const s of row.perThread!)
        assert.ok(
          s.received > 15000,
          `${row.method}/${row.tier}: ${JSON.stringify(row.perThread)}`,
        );
    } else {
      // Two generator threads on two CPUs send on both of the test bed's queues, a socket each.
      for (const s of row.perThread!)
        assert.ok(s.received > 0, `af-xdp/${row.tier}: ${JSON.stringify(row.perThread)}`);
    }
  }
  assert.deepEqual(leftoversOf(result.pid), []);
});

test('live, --threads 2 on udp64-flows with hash fanout: accounting closed, both tiers', async () => {
  const { result, results } = await runJson([
    '--methods',
    SPREAD,
    '--threads',
    '2',
    '--gen-threads',
    '2',
    '--mode',
    'live',
    '--duration',
    '1',
    '--rate',
    '50000',
    '--fixture',
    'udp64-flows',
    '--trials',
    '1',
    '--tier',
    'both',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    assertSpread(row, 2);
    assert.equal(row.dropped, 0, `${row.method}/${row.tier}: paced at 50 kpps nothing is lost`);
    // 256 flows hashed over two sockets: each gets a fair part.
    if (row.method !== 'af-xdp')
      for (const s of row.perThread!)
        assert.ok(s.received > row.received / 5, JSON.stringify(row.perThread));
  }
});

test('af-xdp with more reader threads than the interface has queues says so in its row', async () => {
  const { results } = await runJson([
    '--methods',
    'af-xdp',
    '--threads',
    '2',
    '--iface',
    'lo',
    '--mode',
    'live',
    '--duration',
    '0.2',
    '--trials',
    '1',
  ]);
  const rows = results.rows.filter((r) => r.method === 'af-xdp');
  assert.ok(
    rows.length > 0 &&
      rows.every((r) => !r.available && /lo has 1 receive queue/.test(r.reason ?? '')),
    JSON.stringify(rows.map((r) => r.reason)),
  );
});

test('methods that read on one thread say why, and the run still passes', async () => {
  const { result, results } = await runJson([
    '--methods',
    'socket,pcap,pcap-native,fastnet-ring',
    '--threads',
    '2',
    '--count',
    '2000',
    '--trials',
    '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const reasons = new Map(results.rows.map((r) => [r.method, r.reason ?? '']));
  assert.match(reasons.get('pcap')!, /event loop: one thread only/);
  assert.match(reasons.get('pcap-native')!, /no fanout support/);
  assert.match(reasons.get('fastnet-ring')!, /fastnet|fastnet binds one reader/);
  assert.ok(results.rows.find((r) => r.method === 'socket')!.ok);
});

function socketFds(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}

for (const fault of ['open:1', 'consume:1', 'crash:1']) {
  test(`a reader thread that fails (${fault}) fails its row, closes every socket and ends every thread`, async () => {
    const sockets = socketFds();
    const tasks = readdirSync('/proc/self/task').length;
    installReaderScript(new URL('./faulty-reader-thread.js', import.meta.url), fault);
    try {
      const config = runConfig({
        methods: 'socket-mmsg,af-xdp',
        threads: '2',
        count: '5000',
        trials: '1',
        tier: 'both',
      });
      const results = await runBenchmark(config, {
        methods: METHODS,
        machine: realMachine,
        signal: new AbortController().signal,
      });
      for (const row of results.rows) {
        assert.equal(row.ok, false, `${row.method}/${row.tier}`);
        assert.match(row.reason ?? '', /reader thread 1/);
      }
    } finally {
      installReaderScript(null);
    }
    // Workers end asynchronously once told to close (or terminated): give them a moment.
    for (let i = 0; i < 50 && readdirSync('/proc/self/task').length > tasks; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(socketFds(), sockets, 'sockets left open');
    assert.ok(readdirSync('/proc/self/task').length <= tasks, 'threads left running');
    assert.deepEqual(
      capbenchLeftovers().filter((n) => n.includes(process.pid.toString(36))),
      [],
    );
  });
}

test('bad input: --threads 0, --fanout nope, --cap-cpus 99', async () => {
  for (const [args, msg] of [
    [['--threads', '0'], /--threads must be a positive whole number/],
    [['--fanout', 'nope'], /--fanout must be one of hash, cpu, lb, qm/],
    [['--cap-cpus', '99'], /--cap-cpus must be a list of CPUs/],
  ] as const) {
    const r = await cli(['run', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

for (const at of [700, 1500, 2600]) {
  test(`SIGINT after ${at} ms of a --threads 2 run exits 130 and leaves no namespace, veth or XDP program`, async () => {
    const mode = at === 1500 ? 'live' : 'drain';
    const run = startCli([
      'run',
      '--methods',
      'socket-mmsg,packet-mmap,af-xdp',
      '--threads',
      '2',
      '--mode',
      mode,
      '--count',
      '100000',
      '--duration',
      '2',
      '--trials',
      '3',
      '--tier',
      'both',
    ]);
    await new Promise((r) => setTimeout(r, at));
    run.child.kill('SIGINT');
    const result = await run.done;
    // The signal lands well after start-up and long before the run could finish.
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted by SIGINT/);
    assert.deepEqual(leftoversOf(result.pid), []);
    const xdp = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
      ifname: string;
      xdp?: unknown;
    }[];
    assert.deepEqual(
      xdp
        .filter((l) => l.xdp !== undefined && l.ifname.startsWith(`cb${result.pid.toString(36)}`))
        .map((l) => l.ifname),
      [],
    );
  });
}
