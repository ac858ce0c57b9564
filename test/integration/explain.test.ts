/**
 * The counts that explain a cost, from a real run: every row that ran has them, and they say what
 * the methods are: one receive call per frame for socket, one per --batch frames for socket-mmsg,
 * none per frame for the rings in drain; and the probes that make figures comparable across runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, runJson } from './harness.js';

const METHODS = 'none,socket,socket-mmsg,pcap,pcap-native,packet-mmap,af-xdp';

test('drain: every row that ran has its explain counts; socket makes a call per frame, socket-mmsg one per batch of 64', async () => {
  const { result, results } = await runJson([
    '--methods',
    METHODS,
    '--count',
    '20000',
    '--trials',
    '2',
    '--tier',
    'both',
    '--batch',
    '64',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const ran = results.rows.filter((r) => r.available && r.method !== 'none');
  for (const row of ran) {
    const what = `${row.method}/${row.tier}`;
    const e = row.explain;
    assert.ok(e, `${what}: no explain counts`);
    assert.ok(
      e.voluntarySwitchesPerPacket >= 0 &&
        e.involuntarySwitchesPerPacket >= 0 &&
        e.minorFaultsPerPacket >= 0,
      what,
    );
    if (row.method === 'pcap')
      assert.equal(e.callsPerPacket, null, `${what}: cap's calls are out of sight`);
    else assert.ok(e.callsPerPacket !== null, `${what}: calls not counted`);
    assert.ok(row.normalised, `${what}: no figures at reference speed`);
    assert.ok(
      row.trials.every((t) => t.speed && t.speed.reader.before > 0 && t.speed.sender !== null),
      `${what}: probes`,
    );
  }
  const of = (method: string, tier: string) =>
    ran.find((r) => r.method === method && r.tier === tier)!.explain!;
  for (const tier of ['js', 'native']) {
    assert.ok(
      of('socket', tier).callsPerPacket! >= 1,
      `socket/${tier}: ${of('socket', tier).callsPerPacket}`,
    );
    assert.ok(
      of('socket-mmsg', tier).callsPerPacket! <= 1 / 8,
      `socket-mmsg/${tier}: ${of('socket-mmsg', tier).callsPerPacket}`,
    );
    assert.ok(
      Math.abs(of('socket-mmsg', tier).packetsPerBatch! - 64) < 1,
      `socket-mmsg/${tier}: ${of('socket-mmsg', tier).packetsPerBatch}`,
    );
    assert.equal(of('pcap-native', tier).callsAre, 'libpcap calls');
    // A full ring in drain: blocks are taken without a call into the kernel.
    assert.ok(
      of('packet-mmap', tier).callsPerPacket! < 0.01,
      `packet-mmap/${tier}: ${of('packet-mmap', tier).callsPerPacket}`,
    );
    assert.ok(
      of('packet-mmap', tier).packetsPerBatch! > 100,
      `packet-mmap/${tier}: a block holds many frames`,
    );
  }
  assert.ok(results.speed?.reader && results.speed.sender, 'the run says how its speed varied');
  assert.ok(
    results.counterFloor &&
      results.counterFloor.native.nsPerFrame > 0 &&
      results.counterFloor.js.nsPerFrame > 0,
  );
});

test('--explain and --normalised are views of the same run; bad --precision and --max-time are refused', async () => {
  const r = await cli([
    'run',
    '--methods',
    'none,socket-mmsg',
    '--count',
    '5000',
    '--trials',
    '2',
    '--explain',
    '--no-color',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /calls\/pkt +pkts\/call +pkts\/wake-up +pkts\/batch/);
  assert.match(
    r.stdout,
    /^machine speed \(a fixed ~1 ms of work timed around every window\): reader's CPU /m,
  );
  assert.match(r.stdout, /^counter alone \(tinybench, 1024 frames in memory\): js /m);
  const n = await cli([
    'run',
    '--methods',
    'none,socket-mmsg',
    '--count',
    '5000',
    '--trials',
    '2',
    '--normalised',
    '--no-color',
  ]);
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /^shown at reference speed \(--normalised\)/m);
  for (const [args, msg] of [
    [['--precision', 'tight'], /--precision must be a positive number/],
    [['--max-time', '0'], /--max-time must be a positive number/],
    [['--trials', '3', '--precision', '2'], /--trials N runs exactly N rounds/],
  ] as const) {
    const bad = await cli(['run', ...args]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, msg);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});
