import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchmark, type RunDeps } from '../../src/core/runner.js';
import { runSweep } from '../../src/core/sweep.js';
import type { CaptureMethodName } from '../../src/core/config.js';
import type { CaptureMethod } from '../../src/core/method.js';
import { UsageError } from '../../src/shared/errors.js';
import { runConfig, type RawRunOptions } from '../../src/cli/parse-options.js';
import { renderTable } from '../../src/report/table.js';
import { benchmarkName } from '../../src/report/compare.js';
import { FakeMachine, fakeMethod, port } from './fake-machine.js';

function methods(...list: CaptureMethod[]): ReadonlyMap<CaptureMethodName, CaptureMethod> {
  return new Map(list.map((m) => [m.name, m]));
}

/** Two NIC ports cabled together: eth2 sends, eth1 captures (promiscuous). */
function cabled(
  over: { cap?: Parameters<typeof port>[1]; gen?: Parameters<typeof port>[1] } = {},
): FakeMachine {
  return new FakeMachine().cable(
    port('eth1', over.cap),
    port('eth2', { mac: '52:54:00:00:00:02', promiscuity: 0, ...over.gen }),
  );
}

function deps(m: FakeMachine): RunDeps {
  return {
    methods: methods(fakeMethod(m, 'socket'), fakeMethod(m, 'packet-mmap')),
    machine: m,
    signal: new AbortController().signal,
  };
}

const TWO_PORT: RawRunOptions = {
  methods: 'none,socket,packet-mmap',
  iface: 'eth1',
  genIface: 'eth2',
  count: '1000',
  trials: '2',
};

test('two-port drain: no test bed, the generator sends on GEN in our namespace, counts exact, deliver from the machine', async () => {
  const m = cabled();
  const results = await runBenchmark(runConfig(TWO_PORT), deps(m));
  assert.deepEqual(m.calls, [
    'requireInterface eth1',
    'requireInterface eth2',
    'describePort eth1',
    'describePort eth2',
    'requireCapabilities',
    'sweepLeftovers',
    // Checked once: only a point with a fixture of its own (a sweep's sizes) is checked again.
  ]);
  assert.deepEqual(
    m.capsAsked,
    [['CAP_NET_ADMIN', 'CAP_NET_RAW']],
    'no namespace, so no CAP_SYS_ADMIN',
  );
  assert.ok(m.started.length > 0);
  for (const spec of m.started) assert.deepEqual([spec.ifname, spec.netnsPath], ['eth2', null]);
  assert.equal(results.config.mode, 'drain', 'the traffic is ours: drain is the default again');
  for (const row of results.rows) {
    assert.ok(row.ok, `${row.method}: ${row.reason}`);
    assert.equal(row.sent, 2000, row.method);
    assert.equal(row.received + row.dropped!, row.sent, row.method);
    assert.equal(row.resent, 0);
  }
  // The fake machine is busy 1.3 µs a frame with a session attached, 1.0 µs with none: 300 cycles at 1 GHz.
  const socket = results.rows[1]!.cyclesPerPacket;
  assert.equal(socket.deliverSource, 'system-busy-two-port');
  assert.equal(Math.round(socket.deliver!), 300);
  assert.equal(socket.total, socket.deliver! + socket.read!);
  // The raw clocks are kept per trial, to recompute deliver from the JSON.
  const system = results.rows[1]!.trials[0]!.delivery!.system!;
  assert.ok(system.busySec > 0 && system.wallSec >= 1, JSON.stringify(system));
  assert.equal(results.rows[1]!.trials[0]!.delivery!.twinSec, null, 'there is no twin port');
});

test('two-port live: the same source, charged per frame sent against none', async () => {
  const m = cabled();
  const results = await runBenchmark(
    runConfig({ ...TWO_PORT, mode: 'live', duration: '0.05' }),
    deps(m),
  );
  assert.ok(!m.calls.includes('createTestbed'));
  const socket = results.rows.find((r) => r.method === 'socket')!;
  assert.ok(socket.ok, socket.reason ?? '');
  assert.equal(socket.sent, 10_000);
  assert.equal(socket.cyclesPerPacket.deliverSource, 'system-busy-two-port');
  assert.equal(Math.round(socket.cyclesPerPacket.deliver!), 300);
});

test('two-port over a veth pair: its counters are read as the test bed reads them', async () => {
  const m = new FakeMachine().cable(
    port('vcap', { kind: 'veth', peer: 'vgen', promiscuity: 0 }),
    port('vgen', { kind: 'veth', peer: 'vcap' }),
  );
  const results = await runBenchmark(
    runConfig({ ...TWO_PORT, iface: 'vcap', genIface: 'vgen' }),
    deps(m),
  );
  assert.ok(
    results.rows.every((r) => r.ok),
    results.rows.map((r) => r.reason).join('; '),
  );
});

test('a NIC that folds in its missed-frame counter late: the window waits until the accounting closes', async () => {
  const m = cabled();
  m.missing = { frames: 10, lagMs: 250 };
  const results = await runBenchmark(
    runConfig({ ...TWO_PORT, methods: 'socket', mode: 'live', duration: '0.05', trials: '1' }),
    deps(m),
  );
  const socket = results.rows[0]!;
  assert.equal(socket.ok, true, socket.reason ?? '');
  assert.equal(socket.drops.captureIf, 10, 'rx_missed_errors is loss at the capture port');
  assert.equal(socket.received + socket.dropped!, socket.sent);
});

/** Refused with a UsageError (exit 2) before anything was created or sent. */
async function refused(m: FakeMachine, raw: RawRunOptions, message: RegExp): Promise<void> {
  await assert.rejects(
    runBenchmark(runConfig(raw), deps(m)),
    (e: unknown) => e instanceof UsageError && message.test(e.message),
  );
  assert.ok(
    !m.calls.includes('sweepLeftovers') && !m.calls.includes('createTestbed'),
    m.calls.join(', '),
  );
  assert.equal(m.started.length, 0);
}

test('refused: --gen-iface without --iface', () =>
  refused(cabled(), { genIface: 'eth2' }, /^--gen-iface GEN needs --iface CAP/));

test('refused: the same port twice', () =>
  refused(
    cabled(),
    { iface: 'eth1', genIface: 'eth1' },
    /--gen-iface eth1 is the capture port too/,
  ));

test('refused: a port that does not exist', () =>
  refused(cabled(), { iface: 'eth1', genIface: 'eth9' }, /no interface named eth9/));

test('refused: an MTU too small for the fixture, naming the port and the MTU it needs', async () => {
  await refused(
    cabled({ gen: { mtu: 1000 } }),
    { ...TWO_PORT, fixture: 'udp1518' },
    /udp1518's largest frame needs an MTU of 1500 and eth2 has 1000: capbench does not change your ports/,
  );
  await refused(
    cabled({ cap: { mtu: 1400 } }),
    { ...TWO_PORT, fixture: 'udp1518' },
    /and eth1 has 1400/,
  );
});

test("refused: a capture NIC that filters the fixture's destination address", () =>
  refused(
    cabled({ cap: { promiscuity: 0 } }),
    TWO_PORT,
    /eth1 takes only frames addressed to it \(52:54:00:00:00:01\) and udp64's go to 02:00:00:00:00:01: turn on its promiscuous mode first/,
  ));

test('refused: a port that is down or has no carrier', async () => {
  await refused(cabled({ gen: { up: false } }), TWO_PORT, /eth2 is down/);
  await refused(
    cabled({ cap: { carrier: false } }),
    TWO_PORT,
    /eth1 has no carrier: is it cabled to eth2/,
  );
});

test('refused: a veth whose peer is not the capture port, and a loopback', async () => {
  await refused(
    cabled({ gen: { kind: 'veth', peer: 'other0' } }),
    TWO_PORT,
    /eth2 is a veth whose peer is other0, not eth1/,
  );
  await refused(cabled({ cap: { linkType: 'loopback' } }), TWO_PORT, /eth1 is a loopback/);
});

test('--iface alone is still live only; with --gen-iface drain is allowed', async () => {
  await refused(
    cabled(),
    { iface: 'eth1', mode: 'drain' },
    /--iface alone captures traffic from elsewhere, so only --mode live/,
  );
  assert.equal(runConfig({ iface: 'eth1' }).mode, 'live');
  assert.equal(runConfig({ iface: 'eth1', genIface: 'eth2' }).mode, 'drain');
});

test('sweep: two-port works without a test bed; --iface alone is refused', async () => {
  const m = cabled();
  const results = await runSweep(
    {
      base: runConfig({ ...TWO_PORT, methods: 'socket', trials: '1' }),
      sizes: [64, 128],
      rates: null,
      loss: 0,
    },
    deps(m),
  );
  assert.deepEqual(
    results.rows.map((r) => [r.point?.frameBytes, r.ok]),
    [
      [64, true],
      [128, true],
    ],
  );
  assert.ok(!m.calls.includes('createTestbed'));
  await assert.rejects(
    runSweep(
      { base: runConfig({ iface: 'eth1' }), sizes: [64], rates: null, loss: 0 },
      deps(cabled()),
    ),
    /sweep offers its own traffic: --iface needs --gen-iface GEN/,
  );
});

test('sweep: every size is checked against the ports before the first is measured', async () => {
  const m = cabled({ gen: { mtu: 1000 } });
  await assert.rejects(
    runSweep(
      {
        base: runConfig({ ...TWO_PORT, methods: 'socket', trials: '1' }),
        sizes: [64, 1518],
        rates: null,
        loss: 0,
      },
      deps(m),
    ),
    /udp1518's largest frame needs an MTU of 1500 and eth2 has 1000/,
  );
  assert.equal(m.started.length, 0);
});

test('the table header and tracker names say where the traffic came from', async () => {
  const results = await runBenchmark(
    runConfig({ ...TWO_PORT, methods: 'socket', trials: '1' }),
    deps(cabled()),
  );
  const table = renderTable(results, { color: false });
  assert.match(
    table.split('\n')[0]!,
    /^capbench: drain of 1,000 frames on eth1, traffic from capbench's generator on eth2, 1 trial per row, fixture udp64\.pcap$/,
  );
  assert.match(
    table,
    /deliver: .*machine-wide busy time \(\/proc\/stat\) less the reading thread while the frames were delivered/,
  );
  assert.equal(
    benchmarkName(results.rows[0]!, results),
    'socket/js drain udp64 iface eth1 gen eth2',
  );
});
