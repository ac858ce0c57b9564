/**
 * The machine's drift, end to end on a fake machine whose every CPU cost (the reader's clock, the
 * generators' frames) and speed probe grow together when it slows down: what was paid moves with
 * it, figures at reference speed do not, the precision rule stops the rounds, and compare judges
 * at reference speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureMethodName } from '../../src/core/config.js';
import type { CaptureMethod } from '../../src/core/method.js';
import type { Results } from '../../src/core/results.js';
import { runBenchmark } from '../../src/core/runner.js';
import type { Progress } from '../../src/core/rows.js';
import { runConfig, type RawRunOptions } from '../../src/cli/parse-options.js';
import { compare, countRegressions, exitStatus } from '../../src/report/compare.js';
import { FakeMachine, fakeMethod } from './fake-machine.js';

/** The reading thread's cost a frame at the reference speed, in ns: a tenth of what delivering it costs. */
const READ_NS = 100;

function deps(m: FakeMachine, onProgress?: (p: Progress) => void, costPerWindow = () => READ_NS) {
  const methods = new Map<CaptureMethodName, CaptureMethod>([
    ['socket', fakeMethod(m, 'socket', { costPerWindow })],
  ]);
  return { methods, machine: m, signal: new AbortController().signal, onProgress };
}

/** A run whose machine runs `slowdown(round)` times slower from the windows of that round on. */
async function run(
  options: RawRunOptions,
  slowdown: (round: number) => number,
  m = new FakeMachine(),
): Promise<Results> {
  return runBenchmark(
    runConfig({ methods: 'none,socket', count: '1000', ...options }),
    deps(m, (p) => (m.slowdown = slowdown(p.trial))),
  );
}

test('a drifting machine: what was paid follows the drift, the figures at reference speed hold still', async () => {
  const results = await run({ trials: '6' }, (round) => (round % 2 === 0 ? 1 : 1.5));
  const socket = results.rows[1]!;
  // The twin cancels the drift in deliver by itself (each fill against its twin beside it): the
  // reader's read carries it.
  const reads = socket.trials.map((t) => t.cyclesPerPacket.read!);
  assert.ok(
    Math.max(...reads) / Math.min(...reads) > 1.45,
    `paid reads should drift: ${reads.join(', ')}`,
  );
  const atRef = socket.trials.map((t) => t.atReferenceSpeed!.total!);
  assert.ok(
    Math.max(...atRef) / Math.min(...atRef) < 1.001,
    `totals at reference speed should not: ${atRef.join(', ')}`,
  );
  assert.ok(socket.normalised!.totalRme! < 0.1, String(socket.normalised!.totalRme));
  assert.ok(socket.cyclesPerPacket.totalRme! > 5, String(socket.cyclesPerPacket.totalRme));
  // The reference is the median probe: the fake's probe is 1 ms at slowdown 1.
  assert.equal(socket.normalised!.reference.readerNs, (1e6 + 1.5e6) / 2);
  assert.ok(
    Math.abs(results.speed!.reader!.rangePct - 40) < 1e-9,
    String(results.speed!.reader!.rangePct),
  );
  assert.equal(socket.clusters!.two, true, 'two speeds, two clusters of windows');
});

test('the precision rule: rounds stop as soon as every row is known to --precision, and not before the least rounds', async () => {
  const results = await run({ precision: '3' }, () => 1);
  assert.deepEqual(
    { ...results.stopping, maxTimeSec: null },
    { rule: 'precision', rounds: 5, precisionPct: 3, maxTimeSec: null, impreciseRows: [] },
  );
  assert.equal(results.rows[1]!.trials.length, 5);
});

test('the precision rule: a row that never gets precise stops the rounds at --max-time, and the header names it', async () => {
  // The reader's cost jumps between windows while the probe says the machine's speed is the same.
  const m = new FakeMachine();
  let round = 0;
  const results = await runBenchmark(
    runConfig({ methods: 'none,socket', count: '1000', precision: '1', maxTime: '0.3' }),
    deps(
      m,
      (p) => (round = p.trial),
      () => (round % 2 === 0 ? READ_NS : 3 * READ_NS),
    ),
  );
  assert.equal(results.stopping!.rule, 'time');
  assert.deepEqual(results.stopping!.impreciseRows, ['socket/js']);
  assert.ok(results.stopping!.rounds >= 5);
});

test('--trials N runs exactly N rounds, and refuses --precision beside it', () => {
  assert.deepEqual(
    [runConfig({ trials: '4' }).precision, runConfig({ trials: '4' }).maxTimeSec],
    [null, null],
  );
  assert.throws(
    () => runConfig({ trials: '4', precision: '2' }),
    /--trials N runs exactly N rounds/,
  );
  assert.deepEqual(
    [runConfig({}).precision, runConfig({}).maxTimeSec, runConfig({}).trials],
    [3, 90, 5],
  );
});

test('compare judges at reference speed: a base machine that ran a third faster throughout is no regression; raw, it is', async () => {
  const base = await run({ trials: '4' }, () => 1);
  const next = await run({ trials: '4' }, () => 1.33);
  const judged = compare(base, next, { thresholdPct: 10 });
  assert.equal(judged.judged, 'reference-speed');
  assert.ok(Math.abs(judged.newMachineSlower!.reader - 0.33) < 1e-9);
  // Cycles only: the fake's windows take real wall time, so rx pps carries this machine's noise.
  assert.equal(judged.rows[1]!.metrics!.cycles.verdict, 'same', JSON.stringify(judged.rows[1]));
  const raw = compare(base, next, { thresholdPct: 10, judge: 'paid' });
  assert.equal(raw.rows[1]!.metrics!.cycles.verdict, 'slower');
  assert.equal(exitStatus(raw), 1);
});

test('compare gates on drain counts: twice the calls per packet fails, whatever the speed', async () => {
  const base = await run({ trials: '3' }, () => 1);
  const next = await run({ trials: '3' }, () => 1);
  const doubled: Results = {
    ...next,
    rows: next.rows.map((r) =>
      r.explain
        ? { ...r, explain: { ...r.explain, callsPerPacket: r.explain.callsPerPacket! * 2 } }
        : r,
    ),
  };
  const c = compare(base, doubled, { thresholdPct: 10 });
  assert.deepEqual(
    countRegressions(c).map(
      ({ row, change }) => `${row.label} ${change.name} ×${change.ratio.toFixed(2)}`,
    ),
    ['socket/js drain calls/pkt ×2.00'],
  );
  assert.equal(exitStatus(c), 1);
  // The same counts pass (exitStatus would also judge rx pps, which the fake leaves to real time).
  assert.deepEqual(countRegressions(compare(base, next, { thresholdPct: 10 })), []);
});

test("compare: a ring's smaller blocks are reported, not gated; one call's smaller batch fails", async () => {
  const measured = await run({ trials: '3' }, () => 1);
  // The socket row's counts set by hand: calls counted (a batch is one call's) or not (a block).
  const counted = (calls: number | null, batch: number): Results => ({
    ...measured,
    rows: measured.rows.map((r) =>
      r.explain
        ? { ...r, explain: { ...r.explain, callsPerPacket: calls, packetsPerBatch: batch } }
        : r,
    ),
  });
  const block = compare(counted(null, 6000), counted(null, 3000), { thresholdPct: 10 });
  const batch = block.rows[1]!.counts.find((k) => k.name === 'pkts/batch')!;
  assert.deepEqual([batch.ratio, batch.gated, batch.regressed], [0.5, false, false]);
  assert.equal(exitStatus(block), 0);
  const calls = compare(counted(1 / 64, 64), counted(1 / 64, 32), { thresholdPct: 10 });
  assert.deepEqual(
    countRegressions(calls).map(({ change }) => change.name),
    ['pkts/batch'],
  );
  assert.equal(exitStatus(calls), 1);
});

test('explain counts per packet from the sessions and the reading thread', async () => {
  const results = await run({ trials: '2' }, () => 1);
  const e = results.rows[1]!.explain!;
  // The fake session makes a call per frame read and wakes once per window.
  assert.deepEqual(
    [e.callsAre, e.callsPerPacket, e.packetsPerCall, e.packetsPerWakeup],
    ['system calls', 1, 1, 1000],
  );
  assert.equal(results.rows[0]!.explain, undefined, 'the baseline reads nothing');
});
