/**
 * Two-port mode against two ports this test makes and owns: a veth pair in the root namespace,
 * silenced the way the test bed silences its own, so that nothing but capbench's generator sends
 * on it. capbench captures on one end with --iface and sends from the other with --gen-iface,
 * as it would on two NIC ports cabled together. Traffic goes only between these two ends.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Results } from '../../src/core/results.js';
import { cli, leftoversOf, machineState, runJson, startCli, type CliResult } from './harness.js';

// Not "cb…": the harness's leftover checks and capbench's own sweep take such names for test beds.
const TAG = `tp${process.pid.toString(36)}`;
const CAP = `${TAG}cap`;
const GEN = `${TAG}gen`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

before(() => {
  ip('link', 'add', CAP, 'type', 'veth', 'peer', 'name', GEN);
  for (const dev of [CAP, GEN]) {
    // No IPv6 (router solicitations, MLD), no link-local address, no ARP, no offloads: quiet.
    writeFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '1');
    ip('link', 'set', 'dev', dev, 'addrgenmode', 'none', 'arp', 'off');
    execFileSync('ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'], {
      stdio: 'ignore',
    });
  }
  ip('link', 'set', 'dev', GEN, 'up');
  ip('link', 'set', 'dev', CAP, 'up');
});

after(() => {
  if (existsSync(`/sys/class/net/${CAP}`)) ip('link', 'del', CAP);
  assert.ok(!existsSync(`/sys/class/net/${GEN}`), 'the pair is gone');
});

/** What a run may leave: nothing with its pid, no namespace, and the two ports as they were. */
function assertNothingLeft(r: CliResult, netnsBefore: string[]): void {
  assert.deepEqual(leftoversOf(r.pid), []);
  assert.deepEqual(machineState().netns, netnsBefore, 'two-port mode makes no namespace');
  for (const dev of [CAP, GEN])
    assert.ok(existsSync(`/sys/class/net/${dev}`), `${dev} is still there`);
}

/** sent == received + dropped, the IPv4 count exact, for every row, per trial and in all. */
function assertExact(results: Results, ipv4PerFrame: number): void {
  for (const row of results.rows) {
    const what = `${row.method}/${row.tier}/${row.mode}`;
    assert.ok(row.available && row.ok, `${what}: ${row.reason}`);
    assert.ok(row.sent !== null && row.sent > 0, what);
    assert.equal(row.received + row.dropped!, row.sent, what);
    for (const t of row.trials)
      assert.equal(
        t.received + t.drops.senderIf + t.drops.captureIf + (t.drops.method ?? 0),
        t.sent,
        what,
      );
    if (row.method === 'none') continue;
    if (row.dropped === 0) assert.equal(row.ipv4Counted, row.sent * ipv4PerFrame, what);
    assert.equal(row.ipv4Counted, row.ipv4Expected, what);
    assert.equal(row.cyclesPerPacket.deliverSource, 'system-busy-two-port', what);
    for (const t of row.trials)
      assert.ok(t.delivery?.system != null && t.delivery.twinSec === null, what);
  }
}

test('drain over two ports: exact counts with the generator on GEN, no test bed, nothing left', async () => {
  const netns = machineState().netns;
  const { result, results } = await runJson([
    '--iface',
    CAP,
    '--gen-iface',
    GEN,
    '--methods',
    'none,socket,packet-mmap,pcap',
    '--count',
    '20000',
    '--trials',
    '2',
    '--fixture',
    'mixed',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(results.config.mode, 'drain');
  assert.equal(results.config.genIface, GEN);
  // mixed.pcap: 5 of every 10 frames are untagged IPv4.
  assertExact(results, 0.5);
  for (const row of results.rows) assert.equal(row.received, row.sent, row.method);
  assert.match(
    result.stdout.split('\n')[0]!,
    new RegExp(`drain of 20,000 frames on ${CAP}, traffic from capbench's generator on ${GEN}`),
  );
  assertNothingLeft(result, netns);
});

test('live over two ports: exact accounting at a set rate, deliver from the machine against none', async () => {
  const netns = machineState().netns;
  const { result, results } = await runJson([
    '--iface',
    CAP,
    '--gen-iface',
    GEN,
    '--mode',
    'live',
    '--rate',
    '50000',
    '--duration',
    '1',
    '--trials',
    '2',
    '--methods',
    'none,socket-mmsg,pcap-native',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assertExact(results, 1);
  for (const row of results.rows.filter((r) => r.method !== 'none')) {
    // 2 s of windows is enough for /proc/stat's ticks: a figure, not a dash, unless the busy-time
    // difference came out below zero (here the receive softirq can land in the reading thread),
    // which is no figure either: never a negative one.
    const c = row.cyclesPerPacket;
    const what = `${row.method}: ${JSON.stringify(c)}`;
    assert.equal(c.deliverSource, 'system-busy-two-port', what);
    if (c.deliver === null) {
      assert.equal(c.total, null, what);
      assert.match(c.deliverNote!, /^measured below zero/, what);
    } else {
      assert.ok(
        c.deliver >= 0 && c.total !== null && Math.abs(c.total - (c.deliver + c.read!)) < 1e-6,
        what,
      );
    }
  }
  assertNothingLeft(result, netns);
});

test('a sweep over two ports: one exact row per size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-two-port-'));
  try {
    const file = join(dir, 'sweep.json');
    const r = await cli([
      'sweep',
      '--iface',
      CAP,
      '--gen-iface',
      GEN,
      '--sizes',
      '64,1518',
      '--methods',
      'socket',
      '--count',
      '5000',
      '--trials',
      '1',
      '--json',
      file,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
    assert.deepEqual(
      results.rows.map((row) => [row.point?.frameBytes, row.ok, row.received === row.sent]),
      [
        [64, true, true],
        [1518, true, true],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGINT in a live window over two ports: exit 130, and the generator on GEN has stopped', async () => {
  const netns = machineState().netns;
  const run = startCli([
    'run',
    '--iface',
    CAP,
    '--gen-iface',
    GEN,
    '--methods',
    'socket',
    '--mode',
    'live',
    '--rate',
    '20000',
    '--duration',
    '10',
    '--trials',
    '1',
  ]);
  await sleep(2500);
  run.child.kill('SIGINT');
  const result = await run.done;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /interrupted by SIGINT/);
  assertNothingLeft(result, netns);
  const rx = (): number =>
    Number(readFileSync(`/sys/class/net/${CAP}/statistics/rx_packets`, 'utf8'));
  const then = rx();
  await sleep(200);
  assert.equal(rx(), then, 'nothing sends any more');
});

/** One line on stderr, exit 2, nothing sent and nothing created. */
async function assertRefused(args: string[], message: RegExp): Promise<void> {
  const netns = machineState().netns;
  const rx = Number(readFileSync(`/sys/class/net/${CAP}/statistics/rx_packets`, 'utf8'));
  const r = await cli(args);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not: ${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.equal(r.stdout, '');
  assertNothingLeft(r, netns);
  assert.equal(
    Number(readFileSync(`/sys/class/net/${CAP}/statistics/rx_packets`, 'utf8')),
    rx,
    'nothing was sent',
  );
}

test('refused with one line and exit 2: --gen-iface without --iface, one port twice, no such port', async () => {
  await assertRefused(['run', '--gen-iface', GEN], /^capbench: --gen-iface GEN needs --iface CAP/);
  await assertRefused(
    ['run', '--iface', CAP, '--gen-iface', CAP],
    new RegExp(`--gen-iface ${CAP} is the capture port too`),
  );
  await assertRefused(
    ['run', '--iface', CAP, '--gen-iface', 'nosuch0'],
    /no interface named nosuch0 \(interfaces here: /,
  );
});

test('refused: a port whose MTU is too small for the fixture, left as it was', async () => {
  ip('link', 'set', 'dev', GEN, 'mtu', '1400');
  try {
    await assertRefused(
      ['run', '--iface', CAP, '--gen-iface', GEN, '--fixture', 'udp1518'],
      new RegExp(
        `udp1518's largest frame needs an MTU of 1500 and ${GEN} has 1400: capbench does not change your ports`,
      ),
    );
    assert.equal(readFileSync(`/sys/class/net/${GEN}/mtu`, 'utf8').trim(), '1400');
  } finally {
    ip('link', 'set', 'dev', GEN, 'mtu', '1500');
  }
});

test("refused: a veth that is not the capture port's peer, a port that is down, a sweep with --iface alone", async () => {
  await assertRefused(
    ['run', '--iface', 'lo', '--gen-iface', GEN],
    /lo is a loopback|is a veth whose peer is/,
  );
  ip('link', 'set', 'dev', GEN, 'down');
  try {
    await assertRefused(['run', '--iface', CAP, '--gen-iface', GEN], new RegExp(`${GEN} is down`));
  } finally {
    ip('link', 'set', 'dev', GEN, 'up');
  }
  await assertRefused(
    ['sweep', '--iface', CAP, '--sizes', '64'],
    /sweep offers its own traffic: --iface needs --gen-iface GEN/,
  );
});
