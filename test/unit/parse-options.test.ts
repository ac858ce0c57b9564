import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/shared/errors.js';
import { methods, rate, runConfig, tiers } from '../../src/cli/parse-options.js';
import { positiveInt } from '../../src/shared/parse-number.js';
import { BATCH } from '../../src/methods/batch.js';

test('methods: a comma list keeps order and drops repeats', () => {
  assert.deepEqual(methods('socket, pcap,socket'), ['socket', 'pcap']);
});

test('methods: all expands to every method', () => {
  assert.ok(methods('all').includes('pcap-native'));
});

test('methods: an unknown name says which exist', () => {
  assert.throws(
    () => methods('socket,sokcet'),
    (e: unknown) =>
      e instanceof UsageError &&
      /unknown method 'sokcet': choose from none, socket/.test(e.message),
  );
});

test('count: zero, negative, fractional and words are refused with the flag named', () => {
  for (const bad of ['0', '-5', '1.5', 'ten', '']) {
    assert.throws(
      () => positiveInt('--count', bad),
      (e: unknown) =>
        e instanceof UsageError && e.message.startsWith('--count must be a positive whole number'),
    );
  }
});

test('rate: max or a positive whole number', () => {
  assert.equal(rate('max'), 'max');
  assert.equal(rate('250000'), 250000);
  assert.throws(() => rate('fast'), UsageError);
});

test('tier: both means js then native', () => {
  assert.deepEqual(tiers('both'), ['js', 'native']);
  assert.throws(() => tiers('c'), /--tier must be js, native or both/);
});

test('batch: capped at the kernel limit of one recvmmsg call', () => {
  assert.equal(BATCH.parse!('1024'), 1024);
  assert.throws(() => BATCH.parse!('1025'), /at most 1024/);
});

test("runConfig: the methods' own options are parsed by their declarations, each not given at its default", () => {
  assert.deepEqual(runConfig({}).methodOptions, {
    batch: 64,
    'ring-mb': null,
    'block-kb': null,
    queues: 1,
    zerocopy: false,
    'dpdk-pmd': 'af_packet',
    'dpdk-port': null,
  });
  assert.deepEqual(
    runConfig({
      batch: '8',
      ringMb: '2.5',
      blockKb: '64',
      queues: '2',
      zerocopy: true,
      dpdkPmd: 'af_xdp',
      dpdkPort: '0000:03:00.0',
    }).methodOptions,
    {
      batch: 8,
      'ring-mb': 2.5,
      'block-kb': 64,
      queues: 2,
      zerocopy: true,
      'dpdk-pmd': 'af_xdp',
      'dpdk-port': '0000:03:00.0',
    },
  );
  assert.throws(
    () => runConfig({ queues: 'two' }),
    /--queues must be a positive whole number, got 'two'/,
  );
});

test('runConfig: --iface without --mode means live', () => {
  assert.equal(runConfig({ iface: 'eth0' }).mode, 'live');
  assert.equal(runConfig({}).mode, 'drain');
});

test('runConfig: an unknown fixture name lists the fixtures that exist', () => {
  assert.throws(
    () => runConfig({ fixture: 'nosuch' }),
    (e: unknown) => e instanceof UsageError && /udp64/.test(e.message),
  );
});

test('runConfig: --gen-iface is kept, and with it drain is the default again', () => {
  const c = runConfig({ iface: 'eth1', genIface: 'eth2' });
  assert.deepEqual([c.iface, c.genIface, c.mode], ['eth1', 'eth2', 'drain']);
  assert.equal(runConfig({}).genIface, null);
});
