import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allowedCpus } from './cpu-list.js';

const BINDING = fileURLToPath(new URL('../../src/native/binding.js', import.meta.url));
const CPU_LIST = fileURLToPath(new URL('./cpu-list.js', import.meta.url));

/** What this process may use; the child inherits it. */
const mine = allowedCpus('/proc/self/status')!;
const skip = mine.length < 2 ? 'needs two CPUs to choose from' : false;

/**
 * Runs `body` in a child process, so the test runner's own threads keep their CPUs. The child has
 * `native`, `cpu` and `snapshot()` (every thread's allowed CPUs) and prints what body returns.
 */
function inChild(cpu: number, body: string): unknown {
  const script = `
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { native } from ${JSON.stringify(BINDING)};
import { allowedCpus } from ${JSON.stringify(CPU_LIST)};
const cpu = ${cpu};
const snapshot = () => Object.fromEntries(fs.readdirSync('/proc/self/task')
  .map((tid) => [tid, allowedCpus('/proc/self/task/' + tid + '/status')])
  .filter(([, cpus]) => cpus !== undefined));
console.log(JSON.stringify(await (async () => { ${body} })()));
`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  );
}

type Snapshot = Record<string, number[]>;

test(
  'reserveCpu pins the caller to the CPU and gives every other thread the rest',
  { skip },
  () => {
    const cpu = mine[mine.length - 1]!;
    const s = inChild(
      cpu,
      `native().reserveCpu(cpu); return { main: process.pid, after: snapshot() };`,
    ) as { main: number; after: Snapshot };
    const rest = mine.filter((c) => c !== cpu);
    assert.deepEqual(s.after[String(s.main)], [cpu]);
    const others = Object.entries(s.after).filter(([tid]) => tid !== String(s.main));
    assert.ok(others.length > 0, 'Node has helper threads');
    for (const [tid, cpus] of others) assert.deepEqual(cpus, rest, `thread ${tid}`);
  },
);

test(
  'calling reserveCpu again moves a thread created since, which inherited the pin',
  { skip },
  () => {
    const cpu = mine[mine.length - 1]!;
    const s = inChild(
      cpu,
      `
    native().reserveCpu(cpu);
    const before = snapshot();
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((r) => w.once('online', r));
    const started = snapshot();
    native().reserveCpu(cpu);
    const again = snapshot();
    await w.terminate();
    return { before, started, again };
  `,
    ) as { before: Snapshot; started: Snapshot; again: Snapshot };
    const fresh = Object.keys(s.started).filter((tid) => !(tid in s.before));
    assert.ok(
      fresh.some((tid) => s.started[tid]!.length === 1 && s.started[tid]![0] === cpu),
      'a new thread starts out pinned',
    );
    const rest = mine.filter((c) => c !== cpu);
    for (const tid of fresh)
      if (tid in s.again) assert.deepEqual(s.again[tid], rest, `thread ${tid}`);
  },
);

test(
  'reserveCpu on a CPU the process may not use fails and moves nothing',
  { skip: os.cpus().length >= 1024 && 'too many CPUs' },
  () => {
    // No such CPU, but below CPU_SETSIZE: the kernel itself is asked, and refuses.
    const outside = Math.max(os.cpus().length, ...mine.map((c) => c + 1));
    const s = inChild(
      outside,
      `
    const before = snapshot();
    let message = null;
    try { native().reserveCpu(cpu); } catch (e) { message = e.message; }
    return { message, before, after: snapshot() };
  `,
    ) as { message: string | null; before: Snapshot; after: Snapshot };
    assert.match(s.message ?? 'no error', new RegExp(`pin thread to CPU ${outside}`));
    assert.deepEqual(s.after, s.before);
  },
);
