/**
 * `capbench send` in two-port mode against two ports this test makes and owns: a veth pair in the
 * root namespace, silenced the way the test bed silences its own, so that nothing but capbench's
 * senders sends on it. The frame methods send from one end (--gen-iface) in capbench's own
 * namespace and the sink reads the other (--iface), as on two NIC ports cabled together.
 * Traffic goes only between these two ends.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, leftoversOf, sendJson, startCli, type CliResult } from './harness.js';

// Not "cb…": the harness's leftover checks and capbench's own sweep take such names for test beds.
const TAG = `sp${process.pid.toString(36)}`;
const CAP = `${TAG}cap`;
const GEN = `${TAG}gen`;
const FRAME_METHODS = ['packet-send', 'packet-sendmmsg', 'packet-tx-ring', 'af-xdp-tx'];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function removePair(): void {
  if (existsSync(`/sys/class/net/${CAP}`)) ip('link', 'del', CAP);
}

before(() => {
  ip('link', 'add', CAP, 'type', 'veth', 'peer', 'name', GEN);
  try {
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
  } catch (err) {
    removePair();
    throw err;
  }
});

after(() => {
  removePair();
  assert.ok(!existsSync(`/sys/class/net/${GEN}`), 'the pair is gone');
});

const sysfs = (dev: string, what: string): string =>
  readFileSync(`/sys/class/net/${dev}/${what}`, 'utf8').trim();
const rxPackets = (): number => Number(sysfs(CAP, 'statistics/rx_packets'));

/** The two ports as a run must leave them: there, up, with carrier, MTU and flags unchanged. */
function portState(): string[] {
  return [CAP, GEN].flatMap((dev) => [
    dev,
    sysfs(dev, 'operstate'),
    sysfs(dev, 'carrier'),
    sysfs(dev, 'mtu'),
    sysfs(dev, 'flags'),
  ]);
}

/**
 * What a run may leave: no namespace or link named for its pid (only this run's are looked for:
 * other tests' test beds may come and go meanwhile), and the two ports as they were.
 */
function assertNothingLeft(r: CliResult, portsBefore: string[]): void {
  assert.deepEqual(leftoversOf(r.pid), [], 'no namespace or link of this run');
  assert.deepEqual(portState(), portsBefore, 'the ports are as they were');
}

test('the frame methods over two ports, both tiers: exact counts at the sink on CAP, no twin, nothing left', async () => {
  const ports = portState();
  const rx = rxPackets();
  const { result, results } = await sendJson([
    '--iface',
    CAP,
    '--gen-iface',
    GEN,
    '--methods',
    FRAME_METHODS.join(','),
    '--tier',
    'both',
    '--count',
    '20000',
    '--trials',
    '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.deepEqual([results.config.iface, results.config.genIface], [CAP, GEN]);
  assert.equal(results.link, 'veth');
  assert.equal(results.testbed.neighbours, 'none');
  assert.deepEqual(
    results.rows.map((r) => `${r.method}/${r.tier}`),
    FRAME_METHODS.flatMap((m) => [`${m}/js`, `${m}/native`]),
  );
  for (const row of results.rows) {
    const id = `${row.method}/${row.tier}`;
    assert.ok(row.available, `${id}: ${row.reason}`);
    assert.ok(row.ok, `${id}: ${row.failures.join('; ')}`);
    const [t] = row.trials;
    assert.ok(t && row.summary, id);
    assert.equal(t.stats.taken, 20000, id);
    assert.equal(t.packets, 20000, id);
    assert.equal(t.sink.units + t.sink.drops, t.packets, id);
    // udp64.pcap: every frame is IPv4.
    assert.equal(t.expectedIpv4, 20000, id);
    assert.equal(t.sink.ipv4, t.expectedIpv4 - t.sink.drops, id);
    assert.equal(t.twin, null, `${id}: no twin in two-port mode`);
    assert.equal(t.portDrops, null, `${id}: a veth pair refuses to the sender, never drops`);
    // No twin: sink is the sink's thread alone, send the sender's clocks.
    assert.ok(row.summary.cyclesPerPacket.sink !== null, id);
  }
  // The port itself saw every frame and nothing else.
  assert.equal(rxPackets() - rx, 8 * 20000);
  const lines = result.stdout.split('\n');
  assert.match(
    lines[2]!,
    new RegExp(
      `^two-port mode: sent from ${GEN} in capbench's namespace to ${CAP} over a veth pair`,
    ),
  );
  assert.match(result.stdout, /two-port mode has no twin pair, so\nthe sending is not split/);
  for (const m of FRAME_METHODS)
    assert.match(result.stdout, new RegExp(`^${m} +js .* [\\d,]+\\* `, 'm'), m);
  assertNothingLeft(result, ports);
});

/** One line on stderr, exit 2, nothing on stdout, nothing sent and nothing created. */
async function assertRefused(args: string[], message: RegExp): Promise<void> {
  const ports = portState();
  const rx = rxPackets();
  const r = await cli(['send', ...args]);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not: ${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.equal(r.stdout, '');
  assertNothingLeft(r, ports);
  assert.equal(rxPackets(), rx, 'nothing was sent');
}

test('refused with one line and exit 2: an L4 method, --iface alone, one port twice, no such port', async () => {
  await assertRefused(
    ['--iface', CAP, '--gen-iface', GEN, '--methods', 'packet-send,udp-send'],
    /^capbench: --methods udp-send: two-port mode sends frames only \(packet-send, packet-sendmmsg, packet-tx-ring, af-xdp-tx, fastnet-inject\): between two ports of one namespace the kernel routes UDP and TCP locally, never on the wire$/,
  );
  await assertRefused(
    ['--iface', CAP, '--gen-iface', GEN, '--methods', 'tcp-zerocopy'],
    /^capbench: --methods tcp-zerocopy: two-port mode sends frames only/,
  );
  await assertRefused(['--iface', CAP], /^capbench: --iface CAP needs --gen-iface GEN/);
  await assertRefused(['--gen-iface', GEN], /^capbench: --gen-iface GEN needs --iface CAP/);
  await assertRefused(
    ['--iface', CAP, '--gen-iface', CAP],
    new RegExp(`^capbench: --gen-iface ${CAP} is the capture port too`),
  );
  await assertRefused(
    ['--iface', CAP, '--gen-iface', 'nosuch0'],
    /^capbench: no interface named nosuch0 \(interfaces here: /,
  );
});

test('SIGINT in the middle of a two-port send: exit 130, the ports untouched, no namespace, nothing sending', async () => {
  const ports = portState();
  const run = startCli([
    'send',
    '--iface',
    CAP,
    '--gen-iface',
    GEN,
    '--methods',
    FRAME_METHODS.join(','),
    '--tier',
    'both',
    '--count',
    '400000',
    '--trials',
    '3',
  ]);
  // Wait for the first frames on CAP, so the signal lands mid-window.
  const rx = rxPackets();
  for (let i = 0; i < 100 && rxPackets() === rx; i++) await sleep(20);
  await sleep(300);
  run.child.kill('SIGINT');
  const result = await run.done;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /interrupted by SIGINT/);
  assertNothingLeft(result, ports);
  const then = rxPackets();
  await sleep(200);
  assert.equal(rxPackets(), then, 'nothing sends any more');
});
