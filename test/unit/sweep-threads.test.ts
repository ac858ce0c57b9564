import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import type { RunConfig } from '../../src/core/config.js';
import type { Results, Row } from '../../src/core/results.js';
import type { BenchContext, Point, RunDeps } from '../../src/core/runner.js';
import { runSweep, type OpenBench, type SweepConfig } from '../../src/core/sweep.js';
import { registerSweep, threadList } from '../../src/cli/commands/sweep.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { renderTable } from '../../src/report/table.js';
import { UsageError } from '../../src/shared/errors.js';
import { sampleResults } from './sample-results.js';
import { FakeMachine, HOST } from './fake-machine.js';

/** A UsageError whose message is one line matching `pattern`. */
function usageError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  };
}

test('--threads: a comma-separated list of positive whole numbers, each once', () => {
  assert.deepEqual(threadList('1, 2,4'), [1, 2, 4]);
  assert.deepEqual(threadList('4,1'), [4, 1]);
  assert.throws(
    () => threadList('1,two'),
    usageError(/^--threads must be a positive whole number, got 'two'$/),
  );
  assert.throws(
    () => threadList('0,2'),
    usageError(/^--threads must be a positive whole number, got '0'$/),
  );
  assert.throws(() => threadList('1.5'), usageError(/--threads must be a positive whole number/));
  assert.throws(
    () => threadList(' , '),
    usageError(/^--threads needs a comma-separated list of numbers$/),
  );
  assert.throws(() => threadList('1,2,2'), usageError(/^--threads lists 2 twice/));
});

/** The sweep command in-process; only arguments that fail before anything is measured. */
async function sweepCli(args: string[]): Promise<{ err: unknown; cmd: Command }> {
  const program = new Command('capbench').exitOverride();
  registerSweep(program, { signal: new AbortController().signal, progress: () => undefined });
  const cmd = program.commands.find((c) => c.name() === 'sweep')!;
  cmd.exitOverride();
  try {
    await program.parseAsync(['node', 'capbench', 'sweep', ...args]);
    return { err: null, cmd };
  } catch (err) {
    return { err, cmd };
  }
}

test('sweep CLI: one --threads flag, which takes a list; a bad list or no axis at all is one usage line', async () => {
  const { err, cmd } = await sweepCli(['--methods', 'socket', '--threads', '1,x']);
  assert.equal(cmd.options.filter((o) => o.long === '--threads').length, 1);
  usageError(/^--threads must be a positive whole number, got 'x'$/)(err);
  usageError(/^sweep needs --sizes, --rates, --threads or several of them$/)(
    (await sweepCli(['--methods', 'socket'])).err,
  );
  assert.match(cmd.helpInformation(), /--threads </);
});

interface FakeBench extends BenchContext {
  /** Every config measure() was given. */
  asked: RunConfig[];
}

/** The generator's flat-out rate in the fake, and what each reader thread keeps up with. */
const GENERATOR_PPS = 2_000_000;
const PER_READER_PPS = 500_000;

/**
 * Rows as a runner would give them: one per method and tier, at cfg's thread count, in one-second
 * windows. The generator sends what is asked; readers lose what is above PER_READER_PPS each.
 */
function fakeBench(): FakeBench {
  const template = sampleResults().rows[0]!;
  const asked: RunConfig[] = [];
  return {
    host: HOST,
    asked,
    measure: (cfg: RunConfig): Promise<Point> => {
      asked.push(cfg);
      const sent = cfg.rate === 'max' ? GENERATOR_PPS : cfg.rate;
      const rows = cfg.methods.flatMap((method) =>
        cfg.tiers.map((tier): Row => {
          const received = method === 'none' ? sent : Math.min(sent, PER_READER_PPS * cfg.threads);
          const trial = { ...template.trials[0]!, sent, received, windowSec: 1 };
          return {
            ...template,
            method,
            tier,
            mode: cfg.mode,
            threads: cfg.threads,
            pps: received,
            sent,
            received,
            dropped: sent - received,
            trials: [trial],
          };
        }),
      );
      return Promise.resolve({
        rows,
        stopping: {
          rule: 'trials',
          rounds: 1,
          precisionPct: null,
          maxTimeSec: null,
          impreciseRows: [],
        },
      });
    },
  };
}

/** An OpenBench that hands out `bench` and remembers the config the test bed was built for. */
function opener(bench: BenchContext): { open: OpenBench; built: RunConfig[] } {
  const built: RunConfig[] = [];
  const open: OpenBench = (config, _deps, use) => {
    built.push(config);
    return use(bench);
  };
  return { open, built };
}

const DEPS: RunDeps = {
  methods: new Map(),
  machine: new FakeMachine(),
  signal: new AbortController().signal,
};

function sweepOf(over: Partial<SweepConfig>, methods = 'none,socket'): SweepConfig {
  return {
    base: { ...runConfig({ methods, mode: 'live' }), threads: 1 },
    sizes: null,
    rates: null,
    loss: 0,
    ...over,
  };
}

test('runSweep --threads: one row per thread count and method, point.threads set, the test bed built for the most', async () => {
  const bench = fakeBench();
  const { open, built } = opener(bench);
  const results = await runSweep(sweepOf({ threads: [1, 4, 2] }), DEPS, open);
  assert.deepEqual(
    built.map((c) => c.threads),
    [4],
  );
  assert.deepEqual(
    bench.asked.map((c) => c.threads),
    [1, 4, 2],
  );
  assert.deepEqual(
    results.rows.map((r) => `${r.method} ${r.point?.threads} ${r.threads}`),
    ['none 1 1', 'socket 1 1', 'none 4 4', 'socket 4 4', 'none 2 2', 'socket 2 2'],
  );
  assert.deepEqual(
    results.rows.map((r) => r.point?.frameBytes),
    [null, null, null, null, null, null],
  );
});

test('runSweep --sizes × --threads: sizes outside, each size measured at every count back to back', async () => {
  const bench = fakeBench();
  const { open, built } = opener(bench);
  const results = await runSweep(
    sweepOf({ sizes: [64, 1518], threads: [1, 2] }, 'socket'),
    DEPS,
    open,
  );
  assert.equal(built[0]!.threads, 2);
  assert.match(built[0]!.fixturePath, /udp64\.pcap$/);
  assert.deepEqual(
    results.rows.map((r) => [r.point?.frameBytes, r.point?.threads]),
    [
      [64, 1],
      [64, 2],
      [1518, 1],
      [1518, 2],
    ],
  );
});

test('runSweep --rates × --threads: every rate at every count, offered rate and threads in the point', async () => {
  const bench = fakeBench();
  const { open } = opener(bench);
  const results = await runSweep(
    sweepOf({ rates: [100_000, 200_000], threads: [1, 2] }, 'socket'),
    DEPS,
    open,
  );
  assert.deepEqual(
    results.rows.map((r) => [r.point?.offeredPps, r.point?.threads]),
    [
      [100_000, 1],
      [100_000, 2],
      [200_000, 1],
      [200_000, 2],
    ],
  );
  assert.deepEqual(
    bench.asked.map((c) => [c.rate, c.threads, c.mode]),
    [
      [100_000, 1, 'live'],
      [100_000, 2, 'live'],
      [200_000, 1, 'live'],
      [200_000, 2, 'live'],
    ],
  );
});

test('runSweep --rates search × --threads: one search per thread count, the generator bound measured once', async () => {
  const bench = fakeBench();
  const { open } = opener(bench);
  const results = await runSweep(sweepOf({ rates: 'search', threads: [1, 2] }), DEPS, open);
  assert.equal(bench.asked.filter((c) => c.methods.includes('none')).length, 1);
  assert.deepEqual(
    results.rows.map((r) => `${r.method} ${r.point?.threads} ${r.threads}`),
    ['socket 1 1', 'socket 2 2'],
  );
  results.rows.forEach((row, i) => {
    const found = row.point!.offeredPps!;
    const lossless = PER_READER_PPS * (i + 1);
    assert.ok(
      found <= lossless && found >= lossless * 0.98,
      `${row.threads} readers: found ${found}`,
    );
  });
  assert.ok(bench.asked.filter((c) => c.threads === 2).every((c) => c.methods.join() === 'socket'));
});

test('runSweep without --threads: the base thread count, and points that say the sweep did not vary it', async () => {
  const { open, built } = opener(fakeBench());
  const results = await runSweep(sweepOf({ sizes: [64] }, 'socket'), DEPS, open);
  assert.equal(built[0]!.threads, 1);
  assert.deepEqual(
    results.rows.map((r) => r.point?.threads),
    [null],
  );
});

/** Sweep rows of the sample at 1, 2 and 4 reader threads. */
function threadsTable(): Results {
  const r = sampleResults();
  const row = r.rows[0]!;
  r.rows = [1, 2, 4].map((threads) => ({
    ...row,
    mode: 'live',
    threads,
    point: { threads, frameBytes: null, offeredPps: null },
  }));
  return r;
}

test('table: a sweep over thread counts gets a threads column after size and offered, and the CPU note', () => {
  const text = renderTable(threadsTable(), { color: false });
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('method'))!;
  assert.match(header, /mode\s+size\s+offered\s+threads\s+rx pps/);
  const body = lines.filter((l) => l.startsWith('socket'));
  assert.deepEqual(
    body.map((l) => /live\s+—\s+max\s+(\d+)\s/.exec(l)?.[1]),
    ['1', '2', '4'],
  );
  assert.match(text, /This machine has 2 CPUs: readers and the generator share them/);
});

test('table: one thread count adds no column; a run with several readers says so in its header', () => {
  const one = threadsTable();
  one.rows = one.rows.slice(0, 1);
  assert.doesNotMatch(renderTable(one, { color: false }), /threads|This machine has/);
  const four = sampleResults();
  four.rows = four.rows.map((row) => ({ ...row, threads: 4 }));
  assert.match(
    renderTable(four, { color: false }).split('\n')[0]!,
    /drain of 20,000 frames, 4 reader threads,/,
  );
});

test('--threads: at most 64, as for run', () => {
  assert.throws(() => threadList('1,65'), usageError(/^--threads must be at most 64, got '65'$/));
});

test('table: rows whose readers did not share the work are explained', () => {
  const r = threadsTable();
  r.rows[1] = {
    ...r.rows[1]!,
    perThread: [
      { index: 0, cpu: 0, received: 20_000, drops: 0, read: 2000 },
      { index: 1, cpu: 1, received: 0, drops: 0, read: null },
    ],
  };
  r.rows[2] = {
    ...r.rows[2]!,
    perThread: [5000, 5000, 5000, 5000].map((received, index) => ({
      index,
      cpu: index % 2,
      received,
      drops: 0,
      read: 2000,
    })),
  };
  const text = renderTable(r, { color: false });
  assert.match(
    text,
    /In 1 of 2 rows with several readers one reader received 99% of the frames or more \(socket\/js with 2 readers at fixture @ max\): PACKET_FANOUT by hash keeps each flow on one socket/,
  );
  r.rows[1] = { ...r.rows[1], perThread: null };
  assert.doesNotMatch(renderTable(r, { color: false }), /one reader received/);
});
