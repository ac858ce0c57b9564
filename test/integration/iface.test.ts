import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cli, runJson, startCli, type CliRun } from './harness.js';

// A persistent test bed is a quiet veth pair whose sender end only capbench's own `gen` uses:
// capbench captures on its capture end with --iface, as it would on a real port.
let netns = '';
let capture = '';
let sender = '';

before(async () => {
  const up = await cli(['env', 'up']);
  assert.equal(up.code, 0, up.stderr);
  netns = /^(capbench-[0-9a-z]+): persistent/m.exec(up.stdout)![1]!;
  capture = /capture interface (\S+)/.exec(up.stdout)![1]!;
  sender = /sender interface\s+(\S+)/.exec(up.stdout)![1]!;
});

after(async () => {
  await cli(['env', 'down']);
});

/** Sends from the test bed's far end at `rate` pps until stopped. */
function generator(rate: number): CliRun {
  return startCli([
    'gen',
    '--netns',
    netns,
    '--iface',
    sender,
    '--rate',
    String(rate),
    '--duration',
    '120',
  ]);
}

async function stop(gen: CliRun): Promise<void> {
  gen.child.kill('SIGINT');
  await gen.done;
}

const RUN = ['--methods', 'socket,pcap', '--duration', '1', '--trials', '2'];

test('--iface with nothing arriving: no traffic is the verdict, exit 1, no per-packet figure', async () => {
  const { result, results } = await runJson(['--iface', capture, ...RUN]);
  assert.equal(result.code, 1, result.stdout);
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    assert.equal(row.ok, false, row.method);
    assert.match(
      row.reason!,
      new RegExp(`no traffic: 0 frames arrived on ${capture} .*is the generator running\\?`),
    );
    assert.equal(row.cyclesPerPacket.read, null);
    assert.equal(row.cyclesPerPacket.total, null);
    assert.equal(row.ppsRme, null);
  }
  // cap reports no drops and nothing says what was sent: unknown, not 0.
  const pcap = results.rows.find((r) => r.method === 'pcap')!;
  assert.equal(pcap.dropped, null);
  assert.equal(pcap.drops.method, null);
  assert.equal(pcap.dropsSource, 'unknown');
  const line = result.stdout.split('\n').find((l) => l.startsWith('pcap '))!;
  assert.match(line, / \? /);
  assert.doesNotMatch(result.stdout, /[█▏▎▍▌▋▊▉]/);
});

test('--iface with a few stray frames: still no traffic, and no figure built on them', async () => {
  const gen = generator(5);
  try {
    const { result, results } = await runJson(['--iface', capture, ...RUN]);
    assert.equal(result.code, 1, result.stdout);
    const socket = results.rows.find((r) => r.method === 'socket')!;
    assert.ok(socket.received > 0, 'the stray frames arrived');
    assert.match(socket.reason!, /no traffic: \d+ frames arrived/);
    assert.equal(socket.cyclesPerPacket.read, null);
    assert.equal(socket.latency, null);
    const line = result.stdout.split('\n').find((l) => l.startsWith('socket '))!;
    assert.doesNotMatch(line, /[█▏▎▍▌▋▊▉]/);
    assert.match(line, /—/);
  } finally {
    await stop(gen);
  }
});

test('--iface with real traffic: ok, figures present, deliver from machine-wide busy time', async () => {
  const gen = generator(50_000);
  try {
    const { result, results } = await runJson(['--iface', capture, ...RUN]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const row of results.rows.filter((r) => r.method !== 'none')) {
      assert.ok(row.ok, `${row.method}: ${row.reason}`);
      assert.ok(row.received > 50_000, row.method);
      assert.ok(row.cyclesPerPacket.read !== null && row.cyclesPerPacket.read > 0, row.method);
      assert.equal(row.cyclesPerPacket.deliverSource, 'system-busy-vs-none', row.method);
    }
    const pcap = results.rows.find((r) => r.method === 'pcap')!;
    assert.equal(pcap.dropped, null);
    const socket = results.rows.find((r) => r.method === 'socket')!;
    assert.equal(socket.dropsSource, 'kernel');
    assert.equal(typeof socket.dropped, 'number');
  } finally {
    await stop(gen);
  }
});
