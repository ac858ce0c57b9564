import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchmark } from '../../src/core/runner.js';
import type { CaptureMethodName } from '../../src/core/config.js';
import type { CaptureMethod } from '../../src/core/method.js';
import type { Progress } from '../../src/core/rows.js';
import { InterruptedError, SystemError } from '../../src/shared/errors.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { renderTable } from '../../src/report/table.js';
import { FakeMachine, fakeMethod } from './fake-machine.js';

function methods(...list: CaptureMethod[]): ReadonlyMap<CaptureMethodName, CaptureMethod> {
  return new Map(list.map((m) => [m.name, m]));
}

test('a run on a fake machine: the test bed is made and removed, rows are charged their delivery', async () => {
  const m = new FakeMachine();
  const progress: Progress[] = [];
  const results = await runBenchmark(
    runConfig({ methods: 'none,socket,packet-mmap', count: '1000', trials: '3' }),
    {
      methods: methods(fakeMethod(m, 'socket'), fakeMethod(m, 'packet-mmap')),
      machine: m,
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p),
    },
  );
  assert.deepEqual(m.calls, [
    'requireCapabilities',
    'sweepLeftovers',
    'createTestbed',
    'destroyTestbed',
  ]);
  assert.deepEqual(
    results.rows.map((r) => [r.method, r.ok, r.received]),
    [
      ['none', true, 3000],
      ['socket', true, 3000],
      ['packet-mmap', true, 3000],
    ],
  );
  // Each fill costs 1.3 µs a frame against its twin's 1.0: deliver is 0.3 µs, 300 cycles at 1 GHz.
  const socket = results.rows[1]!.cyclesPerPacket;
  assert.equal(Math.round(socket.deliver!), 300);
  assert.equal(socket.deliverSource, 'sender-clocks-vs-twin');
  assert.equal(socket.total, socket.deliver! + socket.read!);
  // none delivers nothing by definition and has no reader.
  const none = results.rows[0]!.cyclesPerPacket;
  assert.deepEqual([none.deliver, none.read, none.total], [0, null, null]);
  // Warm-ups first, then rounds that each start one row further on.
  assert.deepEqual(
    progress.map((p) => `${p.method}:${p.trial}`),
    [
      'socket:0',
      'packet-mmap:0',
      'none:1',
      'socket:1',
      'packet-mmap:1',
      'socket:2',
      'packet-mmap:2',
      'none:2',
      'packet-mmap:3',
      'none:3',
      'socket:3',
    ],
  );
});

test('a row whose windows fail is reported failed with the reason; the others still run', async () => {
  const m = new FakeMachine();
  const results = await runBenchmark(
    runConfig({ methods: 'socket,packet-mmap', count: '1000', trials: '2' }),
    {
      methods: methods(
        fakeMethod(m, 'socket', { failOpen: new SystemError('open socket: no buffer space') }),
        fakeMethod(m, 'packet-mmap'),
      ),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  const [socket, mmap] = results.rows;
  assert.deepEqual(
    [socket!.available, socket!.ok, socket!.reason],
    [true, false, 'open socket: no buffer space'],
  );
  assert.equal(mmap!.ok, true);
  assert.ok(m.calls.includes('destroyTestbed'));
});

test('an interrupted run throws InterruptedError after removing its test bed', async () => {
  const m = new FakeMachine();
  const abort = new AbortController();
  const run = runBenchmark(
    runConfig({ methods: 'socket', mode: 'live', duration: '5', trials: '2' }),
    {
      methods: methods(fakeMethod(m)),
      machine: m,
      signal: abort.signal,
    },
  );
  setTimeout(() => abort.abort('SIGINT'), 30);
  await assert.rejects(run, InterruptedError);
  assert.equal(m.calls.at(-1), 'destroyTestbed');
  assert.equal(m.running.size, 0);
});

test('--iface: no test bed, and the interface is checked before anything else', async () => {
  const m = new FakeMachine();
  await runBenchmark(
    runConfig({ methods: 'socket', iface: 'eth9', duration: '0.05', trials: '1' }),
    {
      methods: methods(fakeMethod(m)),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  assert.equal(m.calls[0], 'requireInterface eth9');
  assert.ok(!m.calls.includes('createTestbed'), m.calls.join(', '));
});

test('--deliver off: no twin is fed, rows show read alone, and the table says deliver was not measured', async () => {
  const m = new FakeMachine();
  const results = await runBenchmark(
    runConfig({ methods: 'none,socket', count: '1000', trials: '2', deliver: 'off' }),
    {
      methods: methods(fakeMethod(m)),
      machine: m,
      signal: new AbortController().signal,
    },
  );
  assert.ok(
    m.started.every((s) => !s.ifname.endsWith('t')),
    m.started.map((s) => s.ifname).join(', '),
  );
  const socket = results.rows[1]!;
  assert.equal(socket.ok, true);
  assert.deepEqual([socket.cyclesPerPacket.deliver, socket.cyclesPerPacket.total], [null, null]);
  assert.ok(socket.cyclesPerPacket.read! > 0);
  const table = renderTable(results, { color: false });
  assert.match(table, /^deliver: not measured \(--deliver off\), so no total: compare read$/m);
  assert.equal(table.match(/--deliver off/g)?.length, 1, table);
});
