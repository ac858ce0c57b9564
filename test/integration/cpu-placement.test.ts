import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from './harness.js';

interface Thread { tid: number; name: string; cpus: string }

function allowedList(status: string): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '';
}

function threadsOf(pid: number): Thread[] {
  const out: Thread[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // it has exited
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.push({ tid: Number(tid), name, cpus: allowedList(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Runs a short live capture and samples where each of its threads may run while it does. */
async function placementDuring(genCpu: number, capCpu: number): Promise<{ pid: number; samples: Thread[][] }> {
  const run = startCli(['run', '--methods', 'socket', '--mode', 'live', '--duration', '2', '--trials', '1',
    '--rate', '20000', '--gen-cpu', String(genCpu), '--cap-cpu', String(capCpu)]);
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

const twoCpus = os.cpus().length < 2 ? 'needs two CPUs' : false;
const mine = allowedList(readFileSync('/proc/self/status', 'utf8'));

test('--cap-cpu: the capturing thread has the CPU to itself; Node\'s threads keep off it', { skip: twoCpus, timeout: 60_000 }, async () => {
  const cap = os.cpus().length - 1;
  const { pid, samples } = await placementDuring(0, cap);
  for (const threads of samples) {
    for (const t of threads) {
      if (t.tid === pid) assert.equal(t.cpus, String(cap), 'the capturing (main) thread');
      else if (t.name === 'cb-generator') assert.equal(t.cpus, '0', 'the generator, on --gen-cpu');
      else assert.ok(!t.cpus.split(',').some((r) => {
        const [lo, hi = lo] = r.split('-').map(Number);
        return cap >= lo! && cap <= hi!;
      }), `thread ${t.tid} (${t.name}) may run on the capture CPU: ${t.cpus}`);
    }
  }
});

test('--gen-cpu -1: the generator may run on every CPU of the process, not just the capture CPU', { skip: twoCpus, timeout: 60_000 }, async () => {
  const cap = os.cpus().length - 1;
  const { samples } = await placementDuring(-1, cap);
  for (const threads of samples) {
    const gen = threads.find((t) => t.name === 'cb-generator');
    if (gen) assert.equal(gen.cpus, mine, 'as this test process may');
  }
});
