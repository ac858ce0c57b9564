/**
 * `capbench send` in two-port mode (--iface CAP --gen-iface GEN), against the fake machine of
 * fake-machine.ts: what is refused before anything is touched, where the sessions and the sink
 * are opened, and how frames a NIC lost are counted from the ports' counters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendConfig, sendPorts, type RawSendOptions } from '../../src/cli/send-options.js';
import { SEND_METHOD_NAMES, type SendMethodName } from '../../src/core/send-config.js';
import type { SendMethod, SendOpenContext, SendStats } from '../../src/core/send-method.js';
import { runSend, type SendMachine } from '../../src/core/send-runner.js';
import type { SendBedSettings } from '../../src/net/send-testbed.js';
import type { SinkOptions, SinkStatus } from '../../src/net/sink.js';
import { renderSendTable } from '../../src/report/send-table.js';
import { SEND_METHODS } from '../../src/senders/registry.js';
import { UsageError } from '../../src/shared/errors.js';
import { FakeMachine, port } from './fake-machine.js';

const SETTINGS: SendBedSettings = {
  neighbours: 'none',
  senderOffloads: { tso: false, gso: false },
  captureOffloads: { tso: false, gso: false, gro: false },
};

/** The fake machine with a send side: a sink counts what the fake wire brought to its port. */
class FakeSendMachine extends FakeMachine implements SendMachine {
  readonly sinks: SinkOptions[] = [];
  readonly prepared: unknown[] = [];
  /** Frames each port transmitted (tx_packets). */
  readonly tx = new Map<string, number>();
  /** Frames a sender's port takes and never transmits (a qdisc dropping them), per window. */
  qdiscDrops = 0;
  /** Frames something else sends on a port, per window. */
  strangers = 0;

  /** A window's frames leave `ifname`: less what its qdisc dropped, plus anyone else's. */
  transmit(ifname: string, n: number): void {
    const out = n - this.qdiscDrops;
    this.tx.set(ifname, (this.tx.get(ifname) ?? 0) + out + this.strangers);
    this.deliver(this.captureOf(ifname), out + this.strangers);
  }

  override async readCounters(ifname: string) {
    return { ...(await super.readCounters(ifname)), txPackets: this.tx.get(ifname) ?? 0 };
  }

  prepareSendTestbed(bed: unknown): Promise<SendBedSettings> {
    this.prepared.push(bed);
    return Promise.resolve(SETTINGS);
  }

  openSink(options: SinkOptions) {
    this.sinks.push(options);
    const start = this.arrived(options.ifname);
    const status = (): SinkStatus => {
      const units = this.arrived(options.ifname) - start;
      return {
        running: false,
        units,
        bytes: units * 64,
        ipv4: units,
        drops: 0,
        eof: false,
        cpuNs: units * 500,
        lastNs: 0,
        error: null,
      };
    };
    return {
      port: 0,
      settle: () => Promise.resolve(status()),
      close: () => {},
    };
  }
}

/** A send method whose sessions put their frames on the fake wire at once, from ctx.ifname. */
function fakeSender(
  m: FakeSendMachine,
  name: SendMethodName,
  kind: SendMethod['kind'] = 'frames',
): SendMethod & { opened: SendOpenContext[] } {
  const opened: SendOpenContext[] = [];
  return {
    name,
    summary: 'fake',
    kind,
    tiers: ['js', 'native'],
    opened,
    probe: () => ({ available: true }),
    open: (ctx) => {
      opened.push(ctx);
      const stats: SendStats = {
        taken: 0,
        bytes: 0,
        calls: 0,
        waits: 0,
        retries: 0,
        zcSends: 0,
        zcCompletions: 0,
        zcCopied: 0,
        zcReaps: 0,
        zcReapNs: 0,
        segsOut: 0,
      };
      return {
        send: ({ units }) => {
          m.transmit(ctx.ifname, units);
          stats.taken += units;
          stats.bytes += units * 64;
          stats.calls += 1;
          return Promise.resolve();
        },
        finish: () => {},
        shutdown: () => {},
        stats: () => ({ ...stats }),
        close: () => {},
      };
    },
  };
}

/** eth2 (GEN) cabled to eth1 (CAP), both NIC ports; or the two ends of a veth pair. */
function cabled(veth = false): FakeSendMachine {
  const m = new FakeSendMachine();
  return veth
    ? m.cable(
        port('vcap', { kind: 'veth', peer: 'vgen' }),
        port('vgen', { kind: 'veth', peer: 'vcap' }),
      )
    : m.cable(port('eth1'), port('eth2', { mac: '52:54:00:00:00:02', promiscuity: 0 }));
}

/** Every send method, each a fake of its kind. */
function setup(m: FakeSendMachine) {
  const fakes = new Map(
    SEND_METHOD_NAMES.map((n) => [n, fakeSender(m, n, SEND_METHODS.get(n)!.kind)] as const),
  );
  const methods: ReadonlyMap<SendMethodName, SendMethod> = fakes;
  return { fakes, deps: { methods, machine: m, signal: new AbortController().signal } };
}

const FRAME_METHODS = [
  'packet-send',
  'packet-sendmmsg',
  'packet-tx-ring',
  'af-xdp-tx',
  'fastnet-inject',
];

const TWO_PORT: RawSendOptions = {
  iface: 'eth1',
  genIface: 'eth2',
  count: '1000',
  trials: '2',
  tier: 'both',
};

test('--iface and --gen-iface come together or not at all, each alone one line', () => {
  assert.deepEqual(sendPorts({}), { iface: null, genIface: null });
  assert.deepEqual(sendPorts({ iface: 'eth1', genIface: 'eth2' }), {
    iface: 'eth1',
    genIface: 'eth2',
  });
  assert.throws(
    () => sendConfig({ iface: 'eth1' }),
    (e) => e instanceof UsageError && /^--iface CAP needs --gen-iface GEN/.test(e.message),
  );
  assert.throws(
    () => sendConfig({ genIface: 'eth2' }),
    (e) => e instanceof UsageError && /^--gen-iface GEN needs --iface CAP/.test(e.message),
  );
  const c = sendConfig(TWO_PORT);
  assert.deepEqual([c.iface, c.genIface], ['eth1', 'eth2']);
  assert.deepEqual([sendConfig({}).iface, sendConfig({}).genIface], [null, null]);
});

/** A machine that must never be touched: refusals come before anything is created. */
const untouchable = new Proxy({} as SendMachine, {
  get: (_, key) => () => {
    throw new Error(`the machine was asked for ${String(key)}`);
  },
});

test('an L4 method named in two-port mode is refused before the machine is touched', async () => {
  for (const name of ['udp-send', 'tcp-zerocopy', 'io-uring-send']) {
    await assert.rejects(
      runSend(sendConfig({ ...TWO_PORT, methods: `packet-send,${name}` }), {
        methods: SEND_METHODS,
        machine: untouchable,
        signal: new AbortController().signal,
      }),
      (e) =>
        e instanceof UsageError &&
        new RegExp(
          `^--methods ${name}: two-port mode sends frames only \\(packet-send, packet-sendmmsg, packet-tx-ring, af-xdp-tx, fastnet-inject\\): .*routes UDP and TCP locally`,
        ).test(e.message),
    );
  }
});

test('one port twice is refused before the machine is touched', async () => {
  await assert.rejects(
    runSend(sendConfig({ ...TWO_PORT, genIface: 'eth1', methods: 'packet-send' }), {
      methods: SEND_METHODS,
      machine: untouchable,
      signal: new AbortController().signal,
    }),
    (e) => e instanceof UsageError && /--gen-iface eth1 is the capture port too/.test(e.message),
  );
});

test('two-port send over a wire: no test bed, frames from GEN in this namespace, the sink on CAP, L4 left out', async () => {
  const m = cabled();
  const { fakes, deps } = setup(m);
  const r = await runSend(sendConfig(TWO_PORT), deps);
  // run's checks, then no namespace: no CAP_SYS_ADMIN, no createTestbed.
  assert.deepEqual(m.calls, [
    'requireInterface eth1',
    'requireInterface eth2',
    'describePort eth1',
    'describePort eth2',
    'requireCapabilities',
    'sweepLeftovers',
  ]);
  assert.deepEqual(m.capsAsked, [['CAP_NET_ADMIN', 'CAP_NET_RAW']]);
  assert.deepEqual(m.prepared, [{ cap: 'eth1', gen: 'eth2' }], 'the ports are described');
  assert.equal(r.link, 'wire');
  // The default methods in two-port mode are the frame methods.
  assert.deepEqual(
    r.rows.map((row) => `${row.method}/${row.tier}`),
    FRAME_METHODS.flatMap((n) => [`${n}/js`, `${n}/native`]),
  );
  for (const [name, fake] of fakes) {
    const frames = FRAME_METHODS.includes(name);
    assert.equal(fake.opened.length, frames ? 4 : 0, `${name}: one session per window, no twin`);
    for (const ctx of fake.opened) assert.deepEqual([ctx.netnsPath, ctx.ifname], [null, 'eth2']);
  }
  assert.equal(m.sinks.length, 20);
  for (const s of m.sinks) assert.equal(s.ifname, 'eth1');
  for (const row of r.rows) {
    assert.ok(row.ok, row.failures.join('; '));
    for (const t of row.trials) {
      assert.equal(t.twin, null);
      assert.deepEqual(t.portDrops, { genTx: 1000, senderIf: 0, captureIf: 0 });
      assert.equal(t.sink.units, 1000);
    }
    // No twin: sink is the sink's thread alone (500 ns a frame at the fake's 1 GHz).
    assert.equal(Math.round(row.summary!.cyclesPerPacket.sink!.mean), 500);
  }
  const table = renderSendTable(r);
  assert.match(
    table,
    /^two-port mode: sent from eth2 in capbench's namespace to eth1 over a wire/m,
  );
  assert.match(table, /two-port mode has no twin pair, so\nthe sending is not split/);
  assert.match(table, /^packet-sendmmsg +js .* \d+\* /m);
});

test("frames a NIC lost count as drops from CAP's counters, read again until they catch up", async () => {
  const m = cabled();
  // 10 frames of each window never reach the sink; rx_missed_errors says so 300 ms later.
  m.missing = { frames: 10, lagMs: 300 };
  const { deps } = setup(m);
  const r = await runSend(
    sendConfig({ ...TWO_PORT, methods: 'packet-tx-ring', trials: '1', tier: 'js' }),
    deps,
  );
  const [row] = r.rows;
  assert.ok(row?.ok, row?.failures.join('; '));
  const [t] = row.trials;
  assert.deepEqual(t!.portDrops, { genTx: 1000, senderIf: 0, captureIf: 10 });
  assert.equal(t!.sink.units, 990);
  assert.match(renderSendTable(r), /1,000 = 990 \+ 10 /);
  assert.match(
    renderSendTable(r),
    /^drops: what the sink's ring dropped, and what the ports' own counters say was lost/m,
  );
});

test('frames the kernel took and GEN never transmitted (its qdisc dropped them) are drops at GEN; a stranger on GEN fails the row', async () => {
  const m = cabled();
  m.qdiscDrops = 3;
  const { deps } = setup(m);
  const config = sendConfig({ ...TWO_PORT, methods: 'fastnet-inject', trials: '1', tier: 'js' });
  const [row] = (await runSend(config, deps)).rows;
  assert.ok(row?.ok, row?.failures.join('; '));
  assert.deepEqual(row.trials[0]!.portDrops, { genTx: 997, senderIf: 3, captureIf: 0 });
  m.qdiscDrops = 0;
  m.strangers = 5;
  const [bad] = (await runSend(config, deps)).rows;
  assert.equal(bad?.ok, false);
  assert.match(
    bad.failures.join('; '),
    /GEN transmitted 1005 frames, more than the 1000 sent: something else sends on it/,
  );
});

test('over a veth pair the ports count no drops (refusals go back to the sender) and the legend says the receive is in send', async () => {
  const m = cabled(true);
  const { deps } = setup(m);
  const r = await runSend(
    sendConfig({ ...TWO_PORT, iface: 'vcap', genIface: 'vgen', methods: 'af-xdp-tx', trials: '1' }),
    deps,
  );
  assert.equal(r.link, 'veth');
  for (const row of r.rows) {
    assert.ok(row.ok, row.failures.join('; '));
    assert.equal(row.trials[0]!.portDrops, null);
  }
  assert.match(
    renderSendTable(r),
    /Over a veth\n +pair the receive runs inside the sender's calls/,
  );
});
