import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendConfig } from '../../src/cli/send-options.js';
import { SEND_DEFAULTS, type SendConfig } from '../../src/core/send-config.js';
import type { SendMethod } from '../../src/core/send-method.js';
import {
  checkPayload,
  payloadsFor,
  runSend,
  unitsFor,
  type SendMachine,
} from '../../src/core/send-runner.js';
import { SEND_METHODS } from '../../src/senders/registry.js';
import { UsageError } from '../../src/shared/errors.js';

const method = (name: Parameters<typeof SEND_METHODS.get>[0]): SendMethod =>
  SEND_METHODS.get(name)!;

test('send defaults: every method, js, 100,000 packets, each L4 method its own payload', () => {
  const c = sendConfig({});
  assert.equal(c.methods.length, SEND_METHODS.size);
  assert.equal(c.methodsGiven, false);
  assert.deepEqual(c.tiers, ['js']);
  assert.deepEqual(payloadsFor(method('udp-send'), c), [1472]);
  assert.deepEqual(payloadsFor(method('udp-gso'), c), [42 * 1472]);
  assert.deepEqual(payloadsFor(method('tcp-zerocopy'), c), [65_536]);
  assert.deepEqual(payloadsFor(method('packet-send'), c), [null]);
  // A list is a sweep: every L4 method's rows at each payload, the frame methods once.
  const sweep = sendConfig({ payload: '64,16384,64' });
  assert.deepEqual(payloadsFor(method('tcp-send'), sweep), [64, 16384]);
  assert.deepEqual(payloadsFor(method('packet-tx-ring'), sweep), [null]);
});

test('units per window: frames and datagrams as counted, udp-gso in calls, TCP by bytes unless --count', () => {
  const c = sendConfig({});
  assert.equal(unitsFor(method('packet-tx-ring'), c, null), SEND_DEFAULTS.count);
  assert.equal(unitsFor(method('udp-gso'), c, 42 * 1472), Math.ceil(100_000 / 42));
  assert.equal(unitsFor(method('tcp-send'), c, 65_536), Math.ceil((100_000 * 1472) / 65_536));
  assert.equal(unitsFor(method('tcp-send'), sendConfig({ count: '7' }), 65_536), 7);
});

test('payload limits are per method', () => {
  assert.throws(
    () => checkPayload(method('udp-send'), sendConfig({ payload: '65508' })),
    UsageError,
  );
  checkPayload(method('udp-send'), sendConfig({ payload: '65507' }));
  checkPayload(method('tcp-send'), sendConfig({ payload: String(1 << 20) }));
  assert.throws(
    () => checkPayload(method('tcp-send'), sendConfig({ payload: String((1 << 20) + 1) })),
    UsageError,
  );
  assert.throws(
    () => checkPayload(method('udp-gso'), sendConfig({ payload: '6500', gsoSize: '100' })),
    /65 segments: UDP_SEGMENT takes at most 64/,
  );
});

/** A machine that must never be touched: refusals come before anything is created. */
const untouchable = new Proxy({} as SendMachine, {
  get: (_, key) => () => {
    throw new Error(`the machine was asked for ${String(key)}`);
  },
});

function zerocopyless(): Map<SendConfig['methods'][number], SendMethod> {
  const methods = new Map(SEND_METHODS);
  const udp = method('udp-zerocopy');
  methods.set('udp-zerocopy', {
    ...udp,
    probe: () => ({
      available: false,
      reason: 'setsockopt SO_ZEROCOPY on a UDP socket: Operation not supported',
    }),
  });
  return methods;
}

test('--methods udp-zerocopy where SO_ZEROCOPY is refused: one usage error, nothing created', async () => {
  await assert.rejects(
    runSend(sendConfig({ methods: 'udp-zerocopy' }), {
      methods: zerocopyless(),
      machine: untouchable,
      signal: new AbortController().signal,
    }),
    (err) =>
      err instanceof UsageError &&
      /--methods udp-zerocopy: it cannot run here: setsockopt SO_ZEROCOPY on a UDP socket: Operation not supported/.test(
        err.message,
      ),
  );
});

test('an oversized payload is refused before the machine is touched', async () => {
  await assert.rejects(
    runSend(sendConfig({ methods: 'udp-send', payload: '70000' }), {
      methods: SEND_METHODS,
      machine: untouchable,
      signal: new AbortController().signal,
    }),
    UsageError,
  );
});
