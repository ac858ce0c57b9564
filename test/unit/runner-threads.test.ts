import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchmark } from '../../src/core/runner.js';
import type { CaptureMethodName } from '../../src/core/config.js';
import type {
  CaptureMethod,
  CaptureSession,
  OpenContext,
  ThreadCounts,
} from '../../src/core/method.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { FakeMachine, fakeMethod } from './fake-machine.js';

function methods(...list: CaptureMethod[]): ReadonlyMap<CaptureMethodName, CaptureMethod> {
  return new Map(list.map((m) => [m.name, m]));
}

/** fakeMethod's sessions, spread over ctx.threads readers that split the frames 3:1 and spend 1 ms each. */
function spreadMethod(m: FakeMachine, opened: OpenContext[]): CaptureMethod {
  const base = fakeMethod(m, 'socket');
  return {
    ...base,
    spread: () => ({ available: true }),
    open(ctx): CaptureSession {
      opened.push(ctx);
      const s = base.open(ctx);
      const threads = (): ThreadCounts[] => {
        const shares = [Math.ceil(s.received * 0.75), s.received - Math.ceil(s.received * 0.75)];
        return shares.map((received, i) => ({
          received,
          ipv4: received,
          drops: 0,
          cpuSec: 0.001,
          userSec: 0.001,
          sysSec: 0,
          switches: { voluntary: 1, involuntary: 0, minorFaults: 0 },
          cpu: i,
        }));
      };
      return Object.assign(s, { threads });
    },
  };
}

test('--threads 2: a method that cannot spread gets a row saying so; one that can gets a share per thread', async () => {
  const m = new FakeMachine();
  const opened: OpenContext[] = [];
  const results = await runBenchmark(
    runConfig({
      methods: 'socket,packet-mmap',
      threads: '2',
      count: '1000',
      trials: '2',
      capCpus: '0',
    }),
    {
      methods: methods(spreadMethod(m, opened), fakeMethod(m, 'packet-mmap')),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  const [socket, mmap] = results.rows;
  assert.equal(mmap!.available, false);
  assert.equal(mmap!.reason, 'packet-mmap reads on one thread only');
  assert.equal(socket!.ok, true, socket!.reason ?? '');
  assert.equal(socket!.threads, 2);
  assert.deepEqual(
    socket!.perThread!.map((t) => [t.index, t.cpu, t.received]),
    [
      [0, 0, 1500],
      [1, 0, 500],
    ],
  );
  // Each reader's own cycles: 1 ms of CPU a trial at 1 GHz over its own packets.
  assert.equal(Math.round(socket!.perThread![0]!.read!), Math.round((2 * 1e6) / 1500));
  // The row's read holds both readers' CPU besides the waiting thread's.
  assert.ok(
    socket!.cyclesPerPacket.read! >= (4 * 1e6) / 2000,
    String(socket!.cyclesPerPacket.read),
  );
  assert.ok(opened.every((c) => c.threads === 2 && c.reader === null && c.fanout === 'hash'));
  // The test bed gets a queue per reader, and the waiting thread reserves no CPU.
  assert.equal(m.testbedQueues, 2);
  assert.deepEqual(m.reserved, []);
});

test('--threads 1: no shares, the reading thread reserves its CPU, one queue', async () => {
  const m = new FakeMachine();
  const results = await runBenchmark(
    runConfig({ methods: 'socket', count: '1000', trials: '1', capCpu: '1' }),
    {
      methods: methods(fakeMethod(m, 'socket')),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  assert.equal(results.rows[0]!.perThread, null);
  assert.equal(results.rows[0]!.threads, 1);
  assert.equal(m.testbedQueues, 1);
  assert.deepEqual(m.reserved, [1]);
});

test('--gen-threads 2: two generator threads on consecutive CPUs, the test bed with two queues', async () => {
  const m = new FakeMachine();
  await runBenchmark(
    runConfig({ methods: 'socket', count: '1000', trials: '1', genThreads: '2', genCpu: '0' }),
    {
      methods: methods(fakeMethod(m, 'socket')),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  const captured = m.started.filter((s) => !s.ifname.endsWith('t'));
  assert.ok(captured.length > 0);
  assert.ok(
    captured.every((s) => s.threads === 2 && JSON.stringify(s.cpus) === '[0,1]'),
    JSON.stringify(captured.map((s) => [s.threads, s.cpus])),
  );
  assert.equal(m.testbedQueues, 2);
});

test("--iface with --threads 2: readers are pinned to the CPUs of the NIC queues' interrupts unless --cap-cpus says", async () => {
  for (const [capCpus, expected] of [
    [undefined, [3, 2]],
    ['1', [1]],
  ] as const) {
    const m = new FakeMachine();
    m.irqCpus.set('eth9', [3, 2]);
    const opened: OpenContext[] = [];
    await runBenchmark(
      runConfig({
        methods: 'socket',
        iface: 'eth9',
        threads: '2',
        duration: '0.05',
        trials: '1',
        capCpus,
      }),
      {
        methods: methods(spreadMethod(m, opened)),
        machine: m,
        signal: new AbortController().signal,
      },
    );
    assert.deepEqual(opened.at(-1)!.captureCpus.slice(0, 2), expected);
  }
});
