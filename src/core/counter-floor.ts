/**
 * The counter alone: doSomething in TypeScript and its C twin through the addon, over the
 * fixture's frames held in memory, timed with tinybench. Nothing else is in the loop, so this is
 * the floor of what counting costs a frame in each tier, measured where a microbenchmark is
 * honest; a table's gap between the js and native tiers can be read against it (the rest of the
 * gap is the runtime's cost of reaching the frames). The run measures it on the capturing CPU.
 */
import { Bench } from 'tinybench';
import { countTable } from './counter.js';
import type { CounterFloor } from './results.js';
import { native } from '../native/binding.js';
import type { Fixture } from '../net/fixture.js';

/** Frames per measured call: the largest batch a method hands over (--batch's limit). */
const FRAMES = 1024;
/** How long tinybench samples each tier, in ms. */
const SAMPLE_MS = 250;

/** The fixture's frames one after another, repeated to FRAMES, and their (offset, length) table. */
function framesInMemory(fixture: Fixture): { buf: Uint8Array; table: Uint32Array } {
  const frames = Array.from(
    { length: FRAMES },
    (_, i) => fixture.frames[i % fixture.frames.length]!,
  );
  const buf = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  const table = new Uint32Array(2 * FRAMES);
  let at = 0;
  frames.forEach((f, i) => {
    buf.set(f, at);
    table[2 * i] = at;
    table[2 * i + 1] = f.length;
    at += f.length;
  });
  return { buf, table };
}

export async function counterFloor(fixture: Fixture): Promise<CounterFloor> {
  const { buf, table } = framesInMemory(fixture);
  const addon = native();
  let sink = 0;
  const bench = new Bench({ time: SAMPLE_MS, warmupTime: SAMPLE_MS / 5 });
  bench.add('js', () => {
    sink += countTable(buf, table, FRAMES);
  });
  bench.add('native', () => {
    sink += addon.countTable(buf, table, FRAMES);
  });
  await bench.run();
  if (sink < 0) throw new Error('unreachable: keeps the counting from being optimised away');
  const perFrame = (name: string): { nsPerFrame: number; rmePct: number } => {
    const r = bench.getTask(name)?.result;
    if (!r || !('latency' in r)) throw new Error(`tinybench did not time the ${name} counter`);
    return { nsPerFrame: (r.latency.mean * 1e6) / FRAMES, rmePct: r.latency.rme };
  };
  return { js: perFrame('js'), native: perFrame('native'), batch: FRAMES };
}
