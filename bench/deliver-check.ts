/**
 * Goal (issue 12, item 5): "capbench's `deliver` for socket and packet-mmap agrees within 15 %
 * with an independent measure, in one run." Issue 23, item 6: the measure for packet-mmap at
 * several ring layouts (block size, retire timeout), since the layout changes what delivery costs.
 *
 * The independent measure shares no code with capbench's: bench/ref/sender.c, a separate process
 * pinned to CPU 0, sends N frames of fixtures/udp64.pcap into the test bed's veth and reports its
 * own getrusage() over the sending loop. On veth the receive side runs in softirq inside those
 * send calls, so that time includes the kernel's delivery into whatever is bound on the capture
 * end. What the kernel defers to ksoftirqd is read from the threads' /proc/PID/schedstat and added.
 * Each round runs, on one test bed of our own:
 *
 *   none  A  none  B  none  C  none …   (A, B, … = socket, packet-mmap at each layout; the order
 *                                        rotates by round)
 *
 * where "none" is the sender alone and A, B, … the sender with bench/ref/socket.c or
 * bench/ref/packet-mmap.c bound on the capture end (sized for N, told "go" only after the send,
 * so bound and not reading, as in capbench's drain fill). A reader run must get every frame, or
 * the round is not used: a dropped frame costs less than a delivered one. The independent
 * deliver is (with − mean of the two "none" beside it) per frame, per round: this VM's speed
 * drifts by 15–30 % over seconds, and neighbours share the drift. Rounds are summarised by
 * their median, converted to cycles at capbench's own calibrated TSC rate.
 *
 * packet-mmap layouts (--layouts): KIB:MS[:BLOCKS], the block size in KiB, the retire timeout in
 * ms and the number of blocks (default: enough for N frames from a 100 kpps sender, as
 * bench/ref/packet-mmap.c counts them). The first is capbench's drain layout (1 MiB, 100 ms), the
 * one compared with capbench's row.
 *
 * capbench: `capbench run --methods socket,packet-mmap --tier native --mode drain --count N
 * --fixture udp64 --trials T`, run half-way through the rounds so both measures see the same
 * stretch of the machine's weather; its rows' cyclesPerPacket.deliver. With --capbench-block-kb
 * K1,K2,… packet-mmap is run again with each `--block-kb K` after it (one capbench run each).
 *
 *   npm run build && node dist/bench/deliver-check.js [--count N] [--rounds R] [--trials T]
 *     [--layouts KIB:MS[:BLOCKS],…] [--capbench-block-kb K,…]
 *
 * Defaults: 200 000 frames, 10 rounds, 10 capbench trials, layouts 1024:100, 64:100, 4096:100,
 * 1024:10, 4096:10; about four minutes here. Needs root, cc and make.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Row } from '../src/core/results.js';
import { softirqThreads } from '../src/core/softirq-clock.js';
import { createTestbed, destroyTestbed, type Testbed } from '../src/net/testbed.js';
import {
  CAP_CPU,
  GEN_CPU,
  REPO,
  installCleanup,
  loadAverage,
  parseArgs,
  printTable,
  ratio,
  requireRoot,
  rowProblem,
  runCapbench,
  runMain,
  stats,
  tempDir,
  track,
  type Stats,
} from './ring-common.js';

/** capbench's rows the independent measure is compared with. */
const METHODS = ['socket', 'packet-mmap'] as const;
type Method = (typeof METHODS)[number];
const TOLERANCE = 0.15;
const FIXTURE = join(REPO, 'fixtures', 'udp64.pcap');
const READY_TIMEOUT_MS = 15_000;
/** After the sender exits: time for softirq work it left queued to reach ksoftirqd's clock. */
const SETTLE_MS = 50;
/** capbench's drain layout for a flat-out fill of 64-byte frames: 1 MiB blocks, retired after 100 ms. */
const CAPBENCH_LAYOUT = '1024:100';
const DEFAULT_LAYOUTS = [CAPBENCH_LAYOUT, '64:100', '4096:100', '1024:10', '4096:10'].join(',');

// ---- the independent side -----------------------------------------------------------------

/** A packet-mmap ring layout of the reference reader; blocks 0: sized for N by the reader. */
interface Layout {
  blockKib: number;
  retireMs: number;
  blocks: number;
}

/** One reader of the rounds: socket, or packet-mmap at one layout. */
interface Reader {
  key: string;
  method: Method;
  layout: Layout | null;
}

function parseLayouts(arg: string): Layout[] {
  return arg.split(',').map((spec) => {
    const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(spec.trim());
    const [blockKib, retireMs, blocks] = [m?.[1], m?.[2], m?.[3] ?? '0'].map(Number);
    if (!m || !(blockKib! >= 4 && blockKib! <= 4096 && Number.isInteger(Math.log2(blockKib!))))
      throw new Error(`--layouts: "${spec}" is not KIB:MS[:BLOCKS] with KIB a power of two 4–4096`);
    if (retireMs! < 1) throw new Error(`--layouts: "${spec}": the retire timeout must be ≥ 1 ms`);
    return { blockKib: blockKib!, retireMs: retireMs!, blocks: blocks! };
  });
}

const layoutKey = (l: Layout): string =>
  `packet-mmap ${l.blockKib >= 1024 ? `${l.blockKib / 1024} MiB` : `${l.blockKib} KiB`}/${l.retireMs} ms` +
  (l.blocks > 0 ? ` ×${l.blocks}` : '');

interface Bins {
  sender: string;
  readers: Record<Method, string>;
}

function buildRefs(): Bins {
  const out = tempDir();
  const bin = (p: string): string => join(out, p);
  const r = spawnSync(
    'make',
    ['-C', join(REPO, 'bench', 'ref'), `OUT=${out}`, bin('sender'), ...METHODS.map(bin)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`building bench/ref failed:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return {
    sender: bin('sender'),
    readers: { socket: bin('socket'), 'packet-mmap': bin('packet-mmap') },
  };
}
/**
 * ksoftirqd's CPU time in ns, all CPUs (as capbench counts it), from schedstat: another kernel
 * interface than the CPU clocks capbench reads.
 */
function ksoftirqdNs(): number {
  return softirqThreads().reduce(
    (a, p) => a + Number(readFileSync(`/proc/${p}/schedstat`, 'utf8').split(' ')[0]),
    0,
  );
}

interface Child {
  child: ChildProcess;
  /** The next line of its stdout; throws if none comes within `ms` or it exits first. */
  line: (what: string, ms: number) => Promise<string>;
  exited: Promise<void>;
}

/** A child tracked for cleanup, its stdout read line by line. */
function startChild(name: string, cmd: string, argv: string[]): Child {
  const child = track(spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const line = async (what: string, ms: number): Promise<string> => {
    // Unreferenced: a deadline that was not needed must not keep the process alive at the end.
    const r = await Promise.race([
      lines.next(),
      exited.then(() => null),
      sleep(ms, null, { ref: false }),
    ]);
    if (r === null || r.done === true) throw new Error(`${name}: no ${what} line\n${stderr}`);
    return r.value;
  };
  return { child, line, exited };
}

interface SenderRun {
  sent: number;
  /** The sender's getrusage over its loop, and ksoftirqd's time over the same run, ns. */
  senderNs: number;
  softirqNs: number;
  /** Why the run is not usable (the reader missed frames), or null. */
  problem: string | null;
}

async function send(bins: Bins, bed: Testbed, count: number): Promise<SenderRun> {
  const k0 = ksoftirqdNs();
  const sender = startChild('sender', bins.sender, [
    bed.netnsPath,
    bed.senderIf,
    FIXTURE,
    String(count),
    String(GEN_CPU),
  ]);
  const m = /^sent (\d+) cpu_ns (\d+)/.exec(await sender.line('result', 60_000));
  if (!m) throw new Error('sender: unexpected result line');
  // Its exit (closing a packet socket waits for RCU) must not overlap the next run on its CPU.
  await sender.exited;
  await sleep(SETTLE_MS);
  return {
    sent: Number(m[1]),
    senderNs: Number(m[2]),
    softirqNs: ksoftirqdNs() - k0,
    problem: null,
  };
}

/** The sender with a reader bound on the capture end, told to drain only after the send. */
async function sendWithReader(
  bins: Bins,
  bed: Testbed,
  count: number,
  reader: Reader,
): Promise<SenderRun> {
  const l = reader.layout;
  const r = startChild(reader.key, 'taskset', [
    '-c',
    String(CAP_CPU),
    bins.readers[reader.method],
    bed.captureIf,
    String(count),
    ...(l ? [String(l.blockKib), String(l.retireMs), String(l.blocks)] : []),
  ]);
  try {
    if ((await r.line('"ready"', READY_TIMEOUT_MS)).trim() !== 'ready')
      throw new Error(`${reader.key}: expected "ready"`);
    const run = await send(bins, bed, count);
    r.child.stdin?.write('go\n');
    const m = /^frames (\d+) ipv4 \d+ ns \d+ cpu_ns \d+ drops (\d+)/.exec(
      await r.line('result', 60_000),
    );
    if (!m) throw new Error(`${reader.key}: unexpected result line`);
    if (Number(m[1]) !== run.sent)
      run.problem = `${reader.key} got ${m[1]} of ${run.sent} frames (drops ${m[2]})`;
    return run;
  } finally {
    if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await r.exited;
  }
}

const perFrame = (r: SenderRun): number => (r.senderNs + r.softirqNs) / r.sent;

interface Independent {
  /** Per round: deliver ns/frame, and ksoftirqd's part of it. */
  deliver: number[];
  softirq: number[];
  notes: string[];
}

/** One round: none, A, none, B, none, …; each reader's run against the mean of its two neighbours. */
async function round(
  bins: Bins,
  bed: Testbed,
  count: number,
  order: readonly Reader[],
  out: Map<string, Independent>,
  alone: number[],
  index: number,
): Promise<void> {
  const nones = [await send(bins, bed, count)];
  const withs: SenderRun[] = [];
  for (const reader of order) {
    withs.push(await sendWithReader(bins, bed, count, reader));
    nones.push(await send(bins, bed, count));
  }
  alone.push(...nones.map(perFrame));
  const parts: string[] = [];
  order.forEach((reader, i) => {
    const res = out.get(reader.key)!;
    const w = withs[i]!;
    const [before, after] = [nones[i]!, nones[i + 1]!];
    if (w.problem) {
      res.notes.push(`round ${index}: ${w.problem}`);
      parts.push(`${reader.key} unused`);
      return;
    }
    const base = (perFrame(before) + perFrame(after)) / 2;
    const baseSoftirq = (before.softirqNs / before.sent + after.softirqNs / after.sent) / 2;
    res.deliver.push(perFrame(w) - base);
    res.softirq.push(w.softirqNs / w.sent - baseSoftirq);
    parts.push(`${reader.key} ${(perFrame(w) - base).toFixed(0)}`);
  });
  console.log(
    `  round ${index}: alone ${nones.map((r) => perFrame(r).toFixed(0)).join('/')} ns/frame; ` +
      `deliver ns/frame: ${parts.join(', ')}`,
  );
}

// ---- main -----------------------------------------------------------------------------------

function cyclesRange(s: Stats, hz: number): string {
  // `|| 0`: a median of about nothing prints as 0, not -0.
  const c = (ns: number): string =>
    Number.isFinite(ns) ? String(Math.round((ns * hz) / 1e9) || 0) : '-';
  return s.n === 0 ? '-' : `${c(s.median)} (${c(s.min)}–${c(s.max)})`;
}

interface CapbenchDeliver {
  deliver: number | null;
  trials: Stats;
  problem: string | null;
}

function capbenchDeliver(rows: Row[], method: Method): CapbenchDeliver {
  const row = rows.find((r) => r.method === method && r.tier === 'native');
  const problem =
    rowProblem(row) ??
    (row!.cyclesPerPacket.deliver === null
      ? `no deliver: ${row!.cyclesPerPacket.deliverNote ?? ''}`
      : null);
  const trials = stats(row?.trials.map((t) => t.cyclesPerPacket.deliver ?? NaN) ?? []);
  return { deliver: problem ? null : row!.cyclesPerPacket.deliver, trials, problem };
}

const capbenchCell = (cb: CapbenchDeliver): string =>
  cb.deliver === null
    ? (cb.problem ?? '-')
    : `${cb.deliver.toFixed(0)}` +
      (cb.trials.n === 0 ? '' : ` (${cb.trials.min.toFixed(0)}–${cb.trials.max.toFixed(0)})`);

/** capbench's drain of both methods, then packet-mmap once more per --block-kb asked for. */
async function runCapbenchRows(
  count: number,
  trials: number,
  blockKibs: number[],
): Promise<{ rows: Map<string, CapbenchDeliver>; tscHz: number }> {
  const base = (methods: string, extra: string[]): Promise<{ rows: Row[]; tscHz: number }> =>
    runCapbench([
      '--methods',
      methods,
      '--tier',
      'native',
      '--mode',
      'drain',
      '--count',
      String(count),
      '--fixture',
      'udp64',
      '--trials',
      String(trials),
      ...extra,
    ]);
  const main = await base(METHODS.join(','), []);
  const rows = new Map<string, CapbenchDeliver>(
    METHODS.map((m) => [m, capbenchDeliver(main.rows, m)]),
  );
  for (const kib of blockKibs) {
    console.log(`  capbench run, packet-mmap --block-kb ${kib}…`);
    const r = await base('packet-mmap', ['--block-kb', String(kib)]);
    rows.set(`packet-mmap ${kib}`, capbenchDeliver(r.rows, 'packet-mmap'));
  }
  return { rows, tscHz: main.tscHz };
}

async function main(): Promise<void> {
  const args = parseArgs(
    process.argv.slice(2),
    { count: 200_000, rounds: 10, trials: 10, layouts: DEFAULT_LAYOUTS, 'capbench-block-kb': '' },
    'deliver-check [--count N] [--rounds R] [--trials T] [--layouts KIB:MS[:BLOCKS],…] ' +
      '[--capbench-block-kb K,…]',
  );
  const layouts = parseLayouts(args.layouts);
  const blockKibs = args['capbench-block-kb']
    .split(',')
    .filter((k) => k !== '')
    .map(Number);
  requireRoot();
  installCleanup();
  const bins = buildRefs();
  const readers: Reader[] = [
    { key: 'socket', method: 'socket', layout: null },
    ...layouts.map((l) => ({ key: layoutKey(l), method: 'packet-mmap' as const, layout: l })),
  ];
  console.log(
    `deliver check: capbench's deliver vs an independent sender's getrusage (+ ksoftirqd), ` +
      `${args.count} udp64 frames per run, sender on CPU ${GEN_CPU}, readers on CPU ${CAP_CPU}; ` +
      `${args.rounds} rounds of ${readers.length} readers, capbench (${args.trials} trials) half-way`,
  );
  console.log(`load average at start: ${loadAverage()}`);

  const independent = new Map<string, Independent>(
    readers.map((r) => [r.key, { deliver: [], softirq: [], notes: [] }]),
  );
  const alone: number[] = [];
  const bed = await createTestbed();
  let capbench: Awaited<ReturnType<typeof runCapbenchRows>> | null = null;
  try {
    for (let i = 0; i < args.rounds; i++) {
      if (i === args.rounds >> 1) {
        console.log('  capbench run…');
        capbench = await runCapbenchRows(args.count, args.trials, blockKibs);
      }
      // Rotated by round, so that no reader always runs first or after the same neighbour.
      const order = readers.map((_, j) => readers[(i + j) % readers.length]!);
      await round(bins, bed, args.count, order, independent, alone, i + 1);
    }
  } finally {
    await destroyTestbed(bed);
  }
  if (!capbench) throw new Error('capbench did not run (--rounds must be at least 1)');

  const hz = capbench.tscHz;
  console.log();
  console.log(
    `TSC ${(hz / 1e6).toFixed(1)} MHz (capbench's calibration); sender alone ` +
      `${cyclesRange(stats(alone), hz)} cyc/frame over ${alone.length} runs`,
  );
  const compared = (r: Reader): CapbenchDeliver | null =>
    r.method === 'socket'
      ? capbench.rows.get('socket')!
      : r.layout &&
          `${r.layout.blockKib}:${r.layout.retireMs}` === CAPBENCH_LAYOUT &&
          !r.layout.blocks
        ? capbench.rows.get('packet-mmap')!
        : null;
  const body = readers.map((reader) => {
    const s = stats(independent.get(reader.key)!.deliver);
    if (s.n === 0) return [reader.key, 'no usable rounds'];
    const cb = compared(reader);
    const r = cb?.deliver == null ? NaN : cb.deliver / ((s.median * hz) / 1e9);
    return [
      reader.key,
      cyclesRange(s, hz),
      cyclesRange(stats(independent.get(reader.key)!.softirq), hz),
      String(s.n),
      cb ? capbenchCell(cb) : '',
      ratio(r),
      Number.isFinite(r) ? (Math.abs(r - 1) <= TOLERANCE ? 'yes' : 'NO') : '',
    ];
  });
  printTable(
    [
      'reader',
      'independent deliver cyc/pkt median (min–max)',
      'of it ksoftirqd',
      'rounds',
      'capbench deliver (trials)',
      'capbench/independent',
      `within ${TOLERANCE * 100} %`,
    ],
    body,
  );
  if (blockKibs.length > 0) {
    console.log();
    printTable(
      ['capbench packet-mmap', 'deliver cyc/pkt (trials)'],
      blockKibs.map((k) => [
        `--block-kb ${k}`,
        capbenchCell(capbench.rows.get(`packet-mmap ${k}`)!),
      ]),
    );
  }
  for (const [m, ind] of independent) for (const n of ind.notes) console.log(`note: ${m}: ${n}`);
  console.log(`load average at end: ${loadAverage()}`);
}

runMain(main);
