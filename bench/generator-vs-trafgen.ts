/**
 * Which way of sending is fastest: capbench's generator with sendmmsg batches, the same generator
 * with a PACKET_TX_RING, or netsniff-ng's trafgen (the usual reference)?
 *
 * One run builds its own silent test bed (a network namespace with one end of a veth pair, the
 * other end here, nothing capturing), then runs alternating trials of the three engines, each
 * sending the same number of identical 64-byte frames (60 bytes + FCS) flat out from the namespace
 * end, pinned to the same CPU. Every engine is measured the same way, from outside: the rx packet
 * counter of our veth end (what the veth delivered) sampled every few milliseconds, and the rate
 * taken between the first and the last sample that fall strictly inside the run, so process
 * start-up and tear-down (trafgen's fork, config parse and mlockall; our thread and ring set-up)
 * are left out for everyone. The generator's own count and clock are printed beside as a check.
 *
 *   npm run bench:generator -- [--frames N] [--trials T] [--batch B] [--cpu C]
 *
 * Needs root and trafgen. A benchmark prints ratios; it is not a test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { native, type Generator, type GeneratorEngine } from '../src/native/binding.js';
import { DEFAULT_FIXTURE, loadFixture } from '../src/net/fixture.js';
import { createTestbed, destroyAllSync, type Testbed } from '../src/net/testbed.js';

type Engine = GeneratorEngine | 'trafgen';
const ENGINES: readonly Engine[] = ['sendmmsg', 'tx-ring', 'trafgen'];
const SAMPLE_MS = 5;

interface Args {
  frames: number;
  trials: number;
  batch: number;
  cpu: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { frames: 2_000_000, trials: 5, batch: 64, cpu: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (key === undefined || !(key in args) || !Number.isInteger(value) || value < 0) {
      throw new Error(
        `usage: generator-vs-trafgen [--frames N] [--trials T] [--batch B] [--cpu C] (at "${argv[i] ?? ''}")`,
      );
    }
    args[key as keyof Args] = value;
  }
  return args;
}

// ---- test bed and frame ------------------------------------------------------------------------

/** Ours: its rx counter is what the veth delivered. */
function rxPackets(bed: Testbed): number {
  return Number(readFileSync(`/sys/class/net/${bed.captureIf}/statistics/rx_packets`, 'utf8'));
}

/** trafgen's own format: one packet, bytes as hex, no comments (its parser rejects them here). */
function trafgenConfig(frame: Uint8Array): string {
  return `{ ${Array.from(frame, (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }\n`;
}

// ---- measurement --------------------------------------------------------------------------------

interface Trial {
  engine: Engine;
  delivered: number;
  /** Counter rate between the first and last samples strictly inside the run. */
  pps: number;
  /** Counter delta over the whole run including start-up and tear-down. */
  wallPps: number;
  /** The generator's own sent / elapsedNs (ours only). */
  selfPps: number | null;
}

interface Sample {
  t: number;
  n: number;
}

/** Samples the counter until done() says the sender has finished. */
async function sampleUntil(bed: Testbed, done: () => boolean): Promise<Sample[]> {
  const samples: Sample[] = [];
  while (!done()) {
    samples.push({ t: performance.now(), n: rxPackets(bed) });
    await sleep(SAMPLE_MS);
  }
  return samples;
}

function steadyPps(samples: Sample[], base: number, final: number): number {
  // Strictly inside the run: the counter has moved past the start and not yet reached the end.
  const inside = samples.filter((s) => s.n > base && s.n < final);
  const a = inside[0];
  const b = inside[inside.length - 1];
  if (!a || !b || b.t - a.t < 50) return NaN;
  return ((b.n - a.n) / (b.t - a.t)) * 1000;
}

let activeGenerator: Generator | null = null;
let activeChild: ChildProcess | null = null;

async function runOurs(
  bed: Testbed,
  engine: GeneratorEngine,
  frame: Uint8Array,
  args: Args,
): Promise<Trial> {
  const base = rxPackets(bed);
  const t0 = performance.now();
  const gen = new (native().Generator)({
    netnsPath: bed.netnsPath,
    ifname: bed.senderIf,
    frames: frame,
    frameLengths: Uint32Array.of(frame.length),
    count: args.frames,
    durationMs: 0,
    ratePps: 0,
    batch: args.batch,
    cpu: args.cpu,
    engine,
  });
  activeGenerator = gen;
  gen.start();
  const samples = await sampleUntil(bed, () => !gen.status().running);
  const st = gen.stop();
  const wall = performance.now() - t0;
  activeGenerator = null;
  if (st.error) throw new Error(`${engine}: ${st.error}`);
  const final = rxPackets(bed);
  return {
    engine,
    delivered: final - base,
    pps: steadyPps(samples, base, final),
    wallPps: ((final - base) / wall) * 1000,
    selfPps: st.elapsedNs > 0 ? st.sent / (st.elapsedNs / 1e9) : null,
  };
}

async function runTrafgen(bed: Testbed, configPath: string, args: Args): Promise<Trial> {
  const base = rxPackets(bed);
  const t0 = performance.now();
  // trafgen pins its one worker to CPU 0 itself (it pins worker i to CPU i); the bench's --cpu
  // defaults to 0 so that every engine shares that CPU. --no-sock-mem and --notouch-irq keep it
  // from rewriting system-wide settings (the socket memory sysctls are read-only here anyway).
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      bed.netns,
      'trafgen',
      '--dev',
      bed.senderIf,
      '--conf',
      configPath,
      '--cpus',
      '1',
      '--num',
      String(args.frames),
      '--no-sock-mem',
      '--notouch-irq',
    ],
    // Own process group: a Ctrl-C is forwarded to the parent and its forked worker together.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  activeChild = child;
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  let exited = false;
  let code: number | null = null;
  child.on('exit', (c) => {
    exited = true;
    code = c;
  });
  const samples = await sampleUntil(bed, () => exited);
  const wall = performance.now() - t0;
  activeChild = null;
  if (code !== 0) throw new Error(`trafgen exited with ${String(code)}:\n${output}`);
  const final = rxPackets(bed);
  return {
    engine: 'trafgen',
    delivered: final - base,
    pps: steadyPps(samples, base, final),
    wallPps: ((final - base) / wall) * 1000,
    selfPps: null,
  };
}

// ---- report -------------------------------------------------------------------------------------

function stats(xs: number[]): { mean: number; min: number; max: number } {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return { mean: NaN, min: NaN, max: NaN };
  return {
    mean: ok.reduce((a, b) => a + b, 0) / ok.length,
    min: Math.min(...ok),
    max: Math.max(...ok),
  };
}

const kpps = (x: number): string => (Number.isFinite(x) ? (x / 1000).toFixed(1) : '-');

function report(trials: Trial[]): void {
  const rows = ENGINES.map((engine) => {
    const mine = trials.filter((t) => t.engine === engine);
    return {
      engine,
      steady: stats(mine.map((t) => t.pps)),
      wall: stats(mine.map((t) => t.wallPps)),
      self: stats(mine.map((t) => t.selfPps ?? NaN)),
    };
  });
  const head = ['engine', 'kpps mean', 'min', 'max', 'wall kpps', 'own count kpps'];
  const body = rows.map((r) => [
    r.engine,
    kpps(r.steady.mean),
    kpps(r.steady.min),
    kpps(r.steady.max),
    kpps(r.wall.mean),
    kpps(r.self.mean),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  console.log();
  console.log(line(head));
  for (const b of body) console.log(line(b));

  const mean = (e: Engine): number => rows.find((r) => r.engine === e)?.steady.mean ?? NaN;
  const ratio = (a: Engine, b: Engine): string => `${a} / ${b} = ${(mean(a) / mean(b)).toFixed(3)}`;
  console.log();
  console.log(ratio('sendmmsg', 'trafgen'));
  console.log(ratio('tx-ring', 'trafgen'));
  console.log(ratio('tx-ring', 'sendmmsg'));
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, AF_PACKET)');
  if (spawnSync('trafgen', ['--version'], { stdio: 'ignore' }).error)
    throw new Error('trafgen (netsniff-ng) is not installed');

  // Keep this process's own thread off the sending CPU: the generator thread pins itself to
  // --cpu and trafgen to CPU 0, and the sampler should not compete with either.
  const other = args.cpu === 0 ? 1 : 0;
  spawnSync('taskset', ['-pc', String(other), String(process.pid)], { stdio: 'ignore' });

  if (args.cpu !== 0)
    console.warn(`note: trafgen always pins itself to CPU 0; ours runs on CPU ${args.cpu}`);

  // The classic 64-byte frame (60 bytes + FCS) of the udp64 fixture.
  const frame = (await loadFixture(DEFAULT_FIXTURE)).frames[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'capbench-bench-'));
  const configPath = join(dir, 'udp64.trafgen');
  writeFileSync(configPath, trafgenConfig(frame));
  const bed = await createTestbed();

  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    activeGenerator?.stop();
    if (activeChild?.pid !== undefined && activeChild.exitCode === null) {
      try {
        process.kill(-activeChild.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
    }
    destroyAllSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }

  try {
    console.log(
      `${args.trials} trials x ${ENGINES.length} engines, ${args.frames} frames of ${frame.length} bytes each, ` +
        `flat out on CPU ${args.cpu}, batch ${args.batch}, ${bed.senderIf} -> ${bed.captureIf}`,
    );
    // Other work on a 2-CPU machine moves these numbers by tens of percent: say how busy it was.
    console.log(
      `load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
    const trials: Trial[] = [];
    for (let t = 0; t < args.trials; t++) {
      // Rotate the order every trial so no engine always runs first (cold) or last.
      for (let k = 0; k < ENGINES.length; k++) {
        const engine = ENGINES[(t + k) % ENGINES.length] as Engine;
        const trial =
          engine === 'trafgen'
            ? await runTrafgen(bed, configPath, args)
            : await runOurs(bed, engine, frame, args);
        trials.push(trial);
        const exact =
          trial.delivered === args.frames
            ? ''
            : `  (delivered ${trial.delivered}, expected ${args.frames})`;
        console.log(
          `trial ${t + 1} ${engine.padEnd(8)} ${kpps(trial.pps).padStart(7)} kpps` +
            `  wall ${kpps(trial.wallPps).padStart(7)}` +
            (trial.selfPps !== null ? `  own ${kpps(trial.selfPps).padStart(7)}` : '') +
            exact,
        );
      }
    }
    report(trials);
  } finally {
    cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
