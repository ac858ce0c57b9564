import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { allowedCpus } from '../unit/cpu-list.js';
import { startCli } from './harness.js';

interface Thread {
  tid: number;
  name: string;
  cpus: number[];
}

function threadsOf(pid: number): Thread[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // it has exited
  }
  return tids.flatMap((tid) => {
    const cpus = allowedCpus(`/proc/${pid}/task/${tid}/status`);
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return []; // the thread ended between the listing and the read
    }
    return cpus ? [{ tid: Number(tid), name, cpus }] : [];
  });
}

/** Runs a short live capture and samples where each of its threads may run while it does. */
async function placementDuring(
  genCpu: number,
  capCpu: number,
): Promise<{ pid: number; samples: Thread[][] }> {
  const run = startCli([
    'run',
    '--methods',
    'socket',
    '--mode',
    'live',
    '--duration',
    '2',
    '--trials',
    '1',
    '--rate',
    '20000',
    '--gen-cpu',
    String(genCpu),
    '--cap-cpu',
    String(capCpu),
  ]);
  const pid = run.child.pid!;
  const samples: Thread[][] = [];
  const seen = new Set<number>();
  let finished = false;
  void run.done.then(() => (finished = true));
  while (!finished) {
    const threads = threadsOf(pid);
    const gen = threads.find((t) => t.name === 'cb-generator');
    // A generator thread places itself as it starts: judge it from its second sighting on.
    if (gen && seen.has(gen.tid)) samples.push(threads);
    if (gen) seen.add(gen.tid);
    await sleep(50);
  }
  const result = await run.done;
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.ok(samples.length > 0, 'saw the generator thread running');
  return { pid, samples };
}

const mine = allowedCpus('/proc/self/status')!;
const skip = mine.length < 2 ? 'needs two CPUs to choose from' : false;
const genCpu = mine[0]!;
const capCpu = mine[mine.length - 1]!;

test(
  "--cap-cpu: the capturing thread has the CPU to itself; Node's threads keep off it",
  { skip, timeout: 60_000 },
  async () => {
    const { pid, samples } = await placementDuring(genCpu, capCpu);
    const rest = mine.filter((c) => c !== capCpu);
    for (const threads of samples) {
      for (const t of threads) {
        if (t.tid === pid) assert.deepEqual(t.cpus, [capCpu], 'the capturing (main) thread');
        else if (t.name === 'cb-generator')
          assert.deepEqual(t.cpus, [genCpu], 'the generator, on --gen-cpu');
        else assert.deepEqual(t.cpus, rest, `thread ${t.tid} (${t.name})`);
      }
    }
  },
);

test(
  '--gen-cpu -1: the generator may run on every CPU of the process but the capture CPU',
  { skip, timeout: 60_000 },
  async () => {
    const { samples } = await placementDuring(-1, capCpu);
    const rest = mine.filter((c) => c !== capCpu);
    for (const threads of samples) {
      const gen = threads.find((t) => t.name === 'cb-generator');
      if (gen) assert.deepEqual(gen.cpus, rest);
    }
  },
);
