import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  combineStatus,
  RunningGenerator,
  splitCount,
  type TrafficSpec,
} from '../../src/net/generator.js';
import type { Generator, GeneratorOptions, GeneratorStatus } from '../../src/native/binding.js';
import type { Fixture } from '../../src/net/fixture.js';
import { SystemError } from '../../src/shared/errors.js';

const frame = new Uint8Array(60);
const FIXTURE: Fixture = {
  name: 't',
  path: 't',
  frames: [frame],
  concatenated: frame,
  lengths: Uint32Array.of(60),
  ipv4PerCycle: 0,
};

const spec = (over: Partial<TrafficSpec> = {}): TrafficSpec => ({
  netnsPath: null,
  ifname: 'veth0',
  fixture: FIXTURE,
  count: 10,
  durationMs: 0,
  ratePps: 0,
  cpu: 1,
  ...over,
});

const status = (over: Partial<GeneratorStatus> = {}): GeneratorStatus => ({
  running: false,
  sent: 0,
  elapsedNs: 0,
  cpuNs: 0,
  error: null,
  ...over,
});

/** A native generator stand-in: sends its whole count at once, or fails where told to. */
class FakeGenerator implements Generator {
  started = false;
  stops = 0;
  constructor(
    readonly options: GeneratorOptions,
    private readonly behaviour: {
      failStart?: boolean;
      stopError?: string;
      stopThrows?: boolean;
      running?: boolean;
    } = {},
  ) {}

  start(): void {
    if (this.behaviour.failStart)
      throw Object.assign(new Error('bind: No such device'), { errno: 19 });
    this.started = true;
  }

  status(): GeneratorStatus {
    const done = this.stops > 0 || !this.behaviour.running;
    return status({
      running: !done,
      sent: this.options.count,
      elapsedNs: 1000 * this.options.cpu + 1,
      cpuNs: done ? 5 : 0,
    });
  }

  stop(): GeneratorStatus {
    this.stops++;
    if (this.behaviour.stopThrows) throw new Error('join failed');
    return { ...this.status(), error: this.behaviour.stopError ?? null };
  }
}

/** A factory that records what it made; `behaviours[i]` shapes the i-th generator. */
function factory(behaviours: ConstructorParameters<typeof FakeGenerator>[1][] = []) {
  const made: FakeGenerator[] = [];
  const create = (options: GeneratorOptions): Generator => {
    const g = new FakeGenerator(options, behaviours[made.length]);
    made.push(g);
    return g;
  };
  return { made, create };
}

test('splitCount gives each thread floor(count / n), the remainder to the first threads', () => {
  assert.deepEqual(splitCount(10, 3), [4, 3, 3]);
  assert.deepEqual(splitCount(11, 3), [4, 4, 3]);
  assert.deepEqual(splitCount(9, 3), [3, 3, 3]);
  assert.deepEqual(splitCount(7, 1), [7]);
  assert.deepEqual(splitCount(1, 2), [1, 0]);
});

test('splitCount keeps a count of 0 (until duration or stop) for every thread', () => {
  assert.deepEqual(splitCount(0, 4), [0, 0, 0, 0]);
});

test('splitCount always adds up to the count', () => {
  for (let n = 1; n <= 7; n++) {
    for (const count of [1, 2, 6, 7, 100, 1_000_003]) {
      const shares = splitCount(count, n);
      assert.equal(shares.length, n);
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        count,
        `${count} over ${n}`,
      );
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
    }
  }
});

test('splitCount rejects a fractional or negative count and fewer than one thread', () => {
  assert.throws(() => splitCount(1.5, 2), RangeError);
  assert.throws(() => splitCount(-1, 2), RangeError);
  assert.throws(() => splitCount(10, 0), RangeError);
});

test('combineStatus sums sent and CPU time, takes the longest elapsed time and lists each thread', () => {
  const s = combineStatus([
    status({ sent: 3, cpuNs: 10, elapsedNs: 7 }),
    status({ sent: 5, cpuNs: 20, elapsedNs: 9, running: true }),
  ]);
  assert.deepEqual(s, {
    running: true,
    sent: 8,
    elapsedNs: 9,
    cpuNs: 30,
    error: null,
    threadSent: [3, 5],
  });
});

test('combineStatus is not running once every thread has stopped', () => {
  assert.equal(combineStatus([status(), status()]).running, false);
});

test('combineStatus reports the first error and which thread had it', () => {
  const s = combineStatus([
    status(),
    status({ error: 'send: ENOBUFS' }),
    status({ error: 'later' }),
  ]);
  assert.equal(s.error, 'thread 1: send: ENOBUFS');
});

test('combineStatus of one thread is that thread, with threadSent of length 1', () => {
  const one = status({ sent: 4, cpuNs: 2, elapsedNs: 3, error: 'boom' });
  assert.deepEqual(combineStatus([one]), { ...one, threadSent: [4] });
});

test('one thread by default: the whole count on spec.cpu', () => {
  const f = factory();
  const gen = new RunningGenerator(spec({ count: 10, ratePps: 1000 }), f.create);
  assert.deepEqual(
    f.made.map((g) => [g.options.count, g.options.cpu, g.options.ratePps]),
    [[10, 1, 1000]],
  );
  assert.deepEqual(gen.stop().threadSent, [10]);
});

test('threads split the count and the rate, and run on cpus round-robin', () => {
  const f = factory();
  const gen = new RunningGenerator(
    spec({ count: 11, threads: 3, cpus: [0, 1], ratePps: 3000 }),
    f.create,
  );
  assert.deepEqual(
    f.made.map((g) => g.options.count),
    [4, 4, 3],
  );
  assert.deepEqual(
    f.made.map((g) => g.options.cpu),
    [0, 1, 0],
  );
  assert.deepEqual(
    f.made.map((g) => g.options.ratePps),
    [1000, 1000, 1000],
  );
  const s = gen.stop();
  assert.equal(s.sent, 11);
  assert.deepEqual(s.threadSent, [4, 4, 3]);
  assert.equal(s.cpuNs, 15);
});

test('without cpus every thread runs on spec.cpu', () => {
  const f = factory();
  new RunningGenerator(spec({ threads: 2, cpu: -1 }), f.create).stop();
  assert.deepEqual(
    f.made.map((g) => g.options.cpu),
    [-1, -1],
  );
});

test('a thread whose share of the count is 0 is never started (0 would mean "no limit")', () => {
  const f = factory();
  const gen = new RunningGenerator(spec({ count: 1, threads: 3 }), f.create);
  assert.equal(f.made.length, 1);
  assert.deepEqual(gen.stop().threadSent, [1, 0, 0]);
});

test('a count of 0 starts every thread with 0, to run until duration or stop', () => {
  const f = factory();
  new RunningGenerator(spec({ count: 0, durationMs: 100, threads: 2 }), f.create).stop();
  assert.deepEqual(
    f.made.map((g) => [g.options.count, g.options.durationMs]),
    [
      [0, 100],
      [0, 100],
    ],
  );
});

test('the generator runs while any thread runs', () => {
  const f = factory([{ running: false }, { running: true }]);
  const gen = new RunningGenerator(spec({ threads: 2 }), f.create);
  assert.equal(gen.running, true);
  assert.equal(gen.status().running, true);
  gen.stop();
  assert.equal(gen.running, false);
});

test('stop() stops every thread even when one fails, then throws the first error', () => {
  const f = factory([{}, { stopError: 'send: Network is down' }, { stopThrows: true }, {}]);
  const gen = new RunningGenerator(spec({ count: 8, threads: 4 }), f.create);
  assert.throws(
    () => gen.stop(),
    (err: unknown) => {
      assert.ok(err instanceof SystemError);
      assert.equal(err.message, 'generator: thread 1: send: Network is down');
      return true;
    },
  );
  assert.deepEqual(
    f.made.map((g) => g.stops),
    [1, 1, 1, 1],
  );
  // Idempotent: the threads are not stopped again, the error stays.
  assert.throws(() => gen.stop(), /thread 1: send: Network is down/);
  assert.deepEqual(
    f.made.map((g) => g.stops),
    [1, 1, 1, 1],
  );
  assert.deepEqual(gen.status().threadSent, [2, 2, 0, 2]);
});

test('one thread keeps its error message as it was', () => {
  const f = factory([{ stopError: 'send: Network is down' }]);
  const gen = new RunningGenerator(spec(), f.create);
  assert.throws(() => gen.stop(), {
    name: 'SystemError',
    message: 'generator: send: Network is down',
  });
});

test('when thread k fails to start, the threads already started are stopped', () => {
  const f = factory([{}, {}, { failStart: true }, {}]);
  assert.throws(
    () => new RunningGenerator(spec({ count: 8, threads: 4, cpus: [0, 1] }), f.create),
    (err: unknown) => {
      assert.ok(err instanceof SystemError);
      assert.equal(
        err.message,
        'start generator thread 2 of 4 (CPU 0) on veth0: bind: No such device',
      );
      assert.equal(err.errno, 19);
      return true;
    },
  );
  assert.equal(f.made.length, 3, 'no thread after the failing one is made');
  assert.deepEqual(
    f.made.map((g) => g.stops),
    [1, 1, 1],
  );
});

test('a single thread that fails to start says so as before', () => {
  const f = factory([{ failStart: true }]);
  assert.throws(() => new RunningGenerator(spec(), f.create), {
    message: 'start generator on veth0: bind: No such device',
  });
});

test('wait() returns the combined status once every thread is done', async () => {
  const f = factory();
  const s = await new RunningGenerator(spec({ count: 5, threads: 2 }), f.create).wait(
    new AbortController().signal,
  );
  assert.deepEqual([s.sent, s.threadSent, s.running], [5, [3, 2], false]);
});

test('waitBlocking() stops waiting as soon as one thread has failed', () => {
  // Thread 1 would run forever; thread 0 has stopped on an error.
  const f = factory([{ stopError: 'x' }, { running: true }]);
  const gen = new RunningGenerator(spec({ count: 0, threads: 2 }), f.create);
  const failing = f.made[0]!;
  failing.status = () => status({ error: 'send: ENXIO' });
  assert.throws(() => gen.waitBlocking(), /generator: thread 0: x/);
  assert.deepEqual(
    f.made.map((g) => g.stops),
    [1, 1],
  );
});

test('bad thread settings are usage errors', () => {
  const f = factory();
  assert.throws(() => new RunningGenerator(spec({ threads: 0 }), f.create), { name: 'UsageError' });
  assert.throws(() => new RunningGenerator(spec({ threads: 1.5 }), f.create), {
    name: 'UsageError',
  });
  assert.equal(f.made.length, 0);
});

test('no CPUs listed (an unpinned generator): every thread on spec.cpu', () => {
  const f = factory();
  new RunningGenerator(
    spec({ threads: 2, cpus: [], cpu: -1, count: 0, durationMs: 10 }),
    f.create,
  ).stop();
  assert.deepEqual(
    f.made.map((g) => g.options.cpu),
    [-1, -1],
  );
});

test('the offered rate is shared by the threads that have frames to send', () => {
  const f = factory();
  new RunningGenerator(spec({ threads: 3, count: 2, ratePps: 2000 }), f.create).stop();
  assert.deepEqual(
    f.made.map((g) => g.options.ratePps),
    [1000, 1000],
  );
});
