import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { defaultCaptureCpus, generatorCpus, testbedQueues } from '../../src/core/config.js';
import { cpuList, fanout, runConfig, threads } from '../../src/cli/parse-options.js';
import { UsageError } from '../../src/shared/errors.js';
import { bedQueues } from '../../src/core/runner.js';
import { METHODS } from '../../src/methods/registry.js';

test('--cap-cpus: lists and ranges, repeats dropped, CPUs that do not exist refused', () => {
  const last = os.cpus().length - 1;
  assert.deepEqual(cpuList('--cap-cpus', `${last},0`), [last, 0]);
  assert.deepEqual(
    cpuList('--cap-cpus', `0-${last},0`),
    Array.from({ length: last + 1 }, (_, i) => i),
  );
  for (const bad of ['', 'a', '1-0', `${last + 1}`, '0,,1', '-1']) {
    assert.throws(
      () => cpuList('--cap-cpus', bad),
      (e: unknown) =>
        e instanceof UsageError && e.message.startsWith('--cap-cpus must be a list of CPUs'),
      bad,
    );
  }
});

test('--fanout: the four PACKET_FANOUT modes capbench names', () => {
  assert.equal(fanout('qm'), 'qm');
  assert.throws(() => fanout('rollover'), /--fanout must be one of hash, cpu, lb, qm/);
});

test('--threads: 1 to 64', () => {
  assert.equal(threads('--threads', '4'), 4);
  assert.throws(() => threads('--threads', '0'), /positive whole number/);
  assert.throws(() => threads('--threads', '65'), /at most 64/);
});

test('generator threads: the first on --gen-cpu, the rest on the CPUs after it; none pinned with -1', () => {
  assert.deepEqual(generatorCpus({ generatorCpu: 0, generatorThreads: 1 }, 4), [0]);
  assert.deepEqual(generatorCpus({ generatorCpu: 3, generatorThreads: 2 }, 4), [3, 0]);
  assert.deepEqual(generatorCpus({ generatorCpu: 0, generatorThreads: 8 }, 2), [0, 1]);
  assert.deepEqual(generatorCpus({ generatorCpu: -1, generatorThreads: 2 }, 4), []);
});

test('reader CPUs by default: off the generator while there are free CPUs, then beside it', () => {
  assert.deepEqual(defaultCaptureCpus([0], 2), [1, 0]);
  assert.deepEqual(defaultCaptureCpus([0, 1], 8), [2, 3, 4, 5, 6, 7, 0, 1]);
  assert.deepEqual(defaultCaptureCpus([], 2), [0, 1]);
});

test('runConfig: --cap-cpus pins the single reader to its first CPU unless --cap-cpu says otherwise', () => {
  const last = String(os.cpus().length - 1);
  assert.equal(runConfig({ capCpus: last }).captureCpu, Number(last));
  assert.equal(runConfig({ capCpus: last, capCpu: '0' }).captureCpu, 0);
  assert.deepEqual(runConfig({ capCpus: last }).captureCpus, [Number(last)]);
  const d = runConfig({});
  assert.deepEqual([d.threads, d.fanout, d.generatorThreads, d.captureCpus], [1, 'hash', 1, null]);
});

test('test bed queues: one unless a run spreads, then as many as its readers, generator threads or what its methods need', () => {
  assert.equal(testbedQueues({ threads: 1, generatorThreads: 1 }, 1), 1);
  assert.equal(testbedQueues({ threads: 4, generatorThreads: 2 }, 1), 4);
  assert.equal(testbedQueues({ threads: 1, generatorThreads: 3 }, 2), 3);
  assert.equal(testbedQueues({ threads: 1, generatorThreads: 1 }, 2), 2);
});

test("the test bed has as many queues as af-xdp's --queues asks for, and only when af-xdp runs", () => {
  assert.equal(bedQueues(runConfig({ methods: 'af-xdp', queues: '3' }), METHODS), 3);
  assert.equal(bedQueues(runConfig({ methods: 'socket', queues: '3' }), METHODS), 1);
});
