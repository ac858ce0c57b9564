import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BINDING = fileURLToPath(new URL('../../src/native/binding.js', import.meta.url));

// In a child process, so the test runner's own threads keep their CPUs. The child reserves the
// last CPU, starts a Worker (its thread inherits the pin), reserves again, and prints every
// thread's allowed CPUs after each step.
const CHILD = `
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { native } from ${JSON.stringify(BINDING)};
const cpu = Number(process.argv[1]);
const masks = () => fs.readdirSync('/proc/self/task').map((tid) => ({
  tid: Number(tid),
  cpus: /Cpus_allowed_list:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/task/' + tid + '/status', 'utf8'))[1],
}));
native().reserveCpu(cpu);
const first = masks();
const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((r) => w.once('online', r));
const started = masks();
native().reserveCpu(cpu);
const again = masks();
await w.terminate();
console.log(JSON.stringify({ main: process.pid, first, started, again }));
`;

interface Snapshot { main: number; first: Mask[]; started: Mask[]; again: Mask[] }
interface Mask { tid: number; cpus: string }

function others(masks: Mask[], main: number): Mask[] {
  return masks.filter((m) => m.tid !== main);
}

/** Whether a Cpus_allowed_list such as "0-2,5" names `cpu`. */
function allows(list: string, cpu: number): boolean {
  return list.split(',').some((r) => {
    const [lo, hi = lo] = r.split('-').map(Number);
    return lo !== undefined && hi !== undefined && cpu >= lo && cpu <= hi;
  });
}

test('reserveCpu pins the caller and moves every other thread off its CPU, new ones on the next call', { skip: os.cpus().length < 2 && 'needs two CPUs' }, () => {
  const cpu = os.cpus().length - 1;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, String(cpu)], { encoding: 'utf8' });
  const s = JSON.parse(out) as Snapshot;
  const pinned = String(cpu);

  assert.equal(s.first.find((m) => m.tid === s.main)?.cpus, pinned);
  assert.ok(others(s.first, s.main).length > 0, 'Node has helper threads');
  for (const m of others(s.first, s.main)) assert.ok(!allows(m.cpus, cpu), `thread ${m.tid} may still run on CPU ${cpu}: ${m.cpus}`);

  // The Worker's thread was created by the pinned main thread, so it starts out pinned too.
  const fresh = others(s.started, s.main).filter((m) => !s.first.some((f) => f.tid === m.tid));
  assert.ok(fresh.some((m) => m.cpus === pinned), 'a thread created after the call inherits the pin');
  for (const m of others(s.again, s.main)) assert.ok(!allows(m.cpus, cpu), `thread ${m.tid} may still run on CPU ${cpu}: ${m.cpus}`);
});

test('reserveCpu refuses a CPU number that cannot exist', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { native } from ${JSON.stringify(BINDING)}; try { native().reserveCpu(1 << 16); } catch (e) { console.log(e.message); }`,
  ], { encoding: 'utf8' });
  assert.match(out, /reserve CPU 65536/);
});
