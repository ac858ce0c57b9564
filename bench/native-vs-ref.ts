/**
 * Goal: "native tier of every method within 10% of a minimal C program that does the same loop."
 *
 * The reference programs are bench/ref/<method>.c, one small independent C program per method
 * (not capbench's addon), built here with `make -C bench/ref` into a temporary directory. Each
 * method is measured in drain mode, the procedure of src/core/window.ts, alternating trials:
 *
 *   ref:      a fresh test bed; the program opens its socket/ring on the capture interface, sized
 *             to hold N frames, and says "ready"; the generator (CPU 0) sends N 64-byte frames
 *             (fixtures/udp64.pcap) while nobody reads; once the interface has them all and the
 *             ring's retire timeout has passed, "go"; the program (pinned to CPU 1) drains them
 *             and reports frames, IPv4 count and the ns of its own loop (CLOCK_MONOTONIC).
 *   capbench: `capbench run --methods M --tier native --mode drain --count N --trials 1`
 *             (its own test bed, warm-up window, generator on CPU 0, capture thread on CPU 1).
 *
 * Counts must be exact (N frames, every one IPv4) or the trial is not used. The ratio is
 * capbench native pps / reference pps, goal ≥ 0.90, judged on the median of the per-trial
 * (paired) ratios: on this 2-CPU machine other work on CPU 1 moves single windows by tens of
 * percent, and a pair runs seconds apart. Beside it, the same ratio from the reader's CPU time
 * (frames per CPU-second of the reading thread: capbench's thread cycles ÷ TSC rate, the
 * reference's CLOCK_THREAD_CPUTIME_ID), which time others spent on the CPU does not move.
 *
 *   npm run build && node dist/bench/native-vs-ref.js [--count N|auto] [--trials T] [--methods a,b]
 *
 * --count auto (the default) drains 1 M frames for the sockets (io-uring included), 4 M for
 * pcap-native and packet-mmap, 500 k for af-xdp, 200 k for dpdk's af_packet PMD and 2048 for its
 * af_xdp PMD, the most that PMD holds (see ring-common.ts).
 *
 * dpdk is measured once per poll-mode driver, as rows "dpdk (af_packet)" and "dpdk (af_xdp)":
 * `--methods dpdk` runs both, `--methods dpdk:af_xdp` one. The reference gets the PMD as an
 * argument, capbench `--dpdk-pmd PMD`. DPDK polls, so its reader's CPU time is its whole window
 * (the per-CPU-second ratio is the pps ratio, give or take what others took of the CPU).
 *
 * Needs root, cc and make (libpcap-dev, libxdp-dev, libbpf-dev, liburing-dev and libdpdk-dev for
 * those references).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_FIXTURE, expectedIpv4, loadFixture, type Fixture } from '../src/net/fixture.js';
import { RunningGenerator } from '../src/net/generator.js';
import { createTestbed, destroyTestbed } from '../src/net/testbed.js';
import {
  CAP_CPU,
  GEN_CPU,
  REPO,
  drainCount,
  installCleanup,
  listMethods,
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
  pps,
  ppsRange,
  ratioRange,
  removeTempDir,
} from './ring-common.js';

const METHODS = [
  'socket',
  'socket-mmsg',
  'io-uring',
  'pcap-native',
  'packet-mmap',
  'af-xdp',
  'dpdk',
];
/** dpdk's poll-mode drivers on the test bed: one row each. */
const DPDK_PMDS = ['af_packet', 'af_xdp'];
const GOAL = 0.9;
/** After its result line, how long a reference may take to exit (dpdk: port close, EAL cleanup). */
const EXIT_GRACE_MS = 10_000;
/** After the interface has every frame: longer than any ring's retire timeout (100 ms) plus margin. */
const SETTLE_MS = 150;
const READY_TIMEOUT_MS = 15_000;

const abort = new AbortController();
let activeGenerator: RunningGenerator | null = null;

// ---- what is measured ---------------------------------------------------------------------------

/** One row: a capbench method, with the arguments that pick a variant of it (dpdk's PMD). */
interface Target {
  /** The row's name: the method, or e.g. "dpdk (af_xdp)". */
  label: string;
  method: string;
  /** After IFNAME N on the reference's command line. */
  refArgs: string[];
  /** Added to `capbench run`. */
  capbenchArgs: string[];
}

/** --methods entries to rows: "dpdk" is both PMDs, "dpdk:PMD" one. */
function targetsOf(wanted: string[]): Target[] {
  const targets: Target[] = [];
  const unknown: string[] = [];
  for (const w of wanted) {
    const [method = '', pmd] = w.split(':');
    if (!METHODS.includes(method) || (pmd !== undefined && method !== 'dpdk')) unknown.push(w);
    else if (method !== 'dpdk') targets.push({ label: w, method, refArgs: [], capbenchArgs: [] });
    else if (pmd !== undefined && !DPDK_PMDS.includes(pmd))
      throw new Error(`dpdk: no PMD "${pmd}" (have: ${DPDK_PMDS.join(', ')})`);
    else
      for (const p of pmd === undefined ? DPDK_PMDS : [pmd])
        targets.push({
          label: `dpdk (${p})`,
          method,
          refArgs: [p],
          capbenchArgs: ['--dpdk-pmd', p],
        });
  }
  if (unknown.length > 0)
    throw new Error(
      `no reference for ${unknown.join(', ')} (have: ${METHODS.join(', ')}; dpdk:${DPDK_PMDS.join('|')})`,
    );
  return targets;
}

// ---- the reference programs -----------------------------------------------------------------

/** Builds every reference it can into a temporary directory; method → binary path. */
function buildRefs(): { bins: Map<string, string>; log: string } {
  const out = tempDir();
  const r = spawnSync('make', ['-k', '-C', join(REPO, 'bench', 'ref'), `OUT=${out}`], {
    encoding: 'utf8',
  });
  const bins = new Map<string, string>();
  for (const m of METHODS) if (existsSync(join(out, m))) bins.set(m, join(out, m));
  return { bins, log: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

interface RefTrial {
  pps: number;
  /** Frames per second of the reading thread's CPU time. */
  cpuPps: number;
  exact: boolean;
  detail: string;
}

function rxPackets(ifname: string): number {
  return Number(readFileSync(`/sys/class/net/${ifname}/statistics/rx_packets`, 'utf8'));
}

async function refTrial(
  bin: string,
  refArgs: string[],
  count: number,
  fixture: Fixture,
): Promise<RefTrial> {
  const bed = await createTestbed();
  // A temporary directory of ours for what a reference keeps in TMPDIR (dpdk: EAL's runtime
  // directory), removed even if the reference itself cannot remove it (SIGKILL).
  const tmp = tempDir();
  const child = track(
    spawn('taskset', ['-c', String(CAP_CPU), bin, bed.captureIf, String(count), ...refArgs], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const nextLine = async (what: string, ms: number): Promise<string> => {
    // Not holding the process open once the line has come (ref: false).
    const timeout = sleep(ms, null, { ref: false });
    const r = await Promise.race([lines.next(), exited.then(() => null), timeout]);
    if (r === null || r.done === true) throw new Error(`${bin}: no ${what} line\n${stderr}`);
    return r.value;
  };
  try {
    if ((await nextLine('"ready"', READY_TIMEOUT_MS)).trim() !== 'ready')
      throw new Error(`${bin}: expected "ready"\n${stderr}`);
    const base = rxPackets(bed.captureIf);
    activeGenerator = new RunningGenerator({
      netnsPath: bed.netnsPath,
      ifname: bed.senderIf,
      fixture,
      count,
      durationMs: 0,
      ratePps: 0,
      cpu: GEN_CPU,
    });
    const sent = (await activeGenerator.wait(abort.signal)).sent;
    activeGenerator = null;
    // As capbench's settle: wait until the kernel has accounted every frame, then for the retire timeout.
    const deadline = performance.now() + 2000;
    while (rxPackets(bed.captureIf) - base < sent && performance.now() < deadline) await sleep(10);
    await sleep(SETTLE_MS);
    child.stdin?.write('go\n');
    const result = await nextLine('result', 60_000);
    // What follows drops is the reference's own breakdown of them (dpdk: imissed, ierrors, rx_nombuf).
    const m = /^frames (\d+) ipv4 (\d+) ns (\d+) cpu_ns (\d+) drops (\d+)(.*)$/.exec(result);
    if (!m) throw new Error(`${bin}: unexpected output "${result}"\n${stderr}`);
    const breakdown = m[6]!.trim();
    const [frames, ipv4, ns, cpuNs, drops] = m.slice(1, 6).map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const want = expectedIpv4(fixture, sent);
    const exact = frames === sent && ipv4 === want;
    return {
      pps: frames / (ns / 1e9),
      cpuPps: frames / (cpuNs / 1e9),
      exact,
      detail: exact
        ? ''
        : `frames ${frames}/${sent}, ipv4 ${ipv4}/${want}, drops ${drops}${breakdown ? ` (${breakdown})` : ''}`,
    };
  } finally {
    // Let it exit by itself (dpdk closes its port and cleans up EAL after its result), else ask
    // it to (it then cleans up), and only then kill it.
    const gone = (ms: number): Promise<unknown> =>
      Promise.race([exited, sleep(ms, null, { ref: false })]);
    if (child.exitCode === null && child.signalCode === null) await gone(EXIT_GRACE_MS);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await gone(EXIT_GRACE_MS);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    removeTempDir(tmp);
    await destroyTestbed(bed);
  }
}

// ---- main -------------------------------------------------------------------------------------

interface Result {
  /** The row's name (Target.label). */
  method: string;
  problem: string | null;
  ref: number[];
  native: number[];
  /** Paired ratios native/ref, trial by trial: of pps, and of frames per CPU-second. */
  paired: number[];
  pairedCpu: number[];
  notes: string[];
  count: number;
}

function empty(method: string, problem: string | null): Result {
  return { method, problem, ref: [], native: [], paired: [], pairedCpu: [], notes: [], count: 0 };
}

/**
 * Alternating reference and capbench trials; with `capbenchProblem` (capbench cannot run the
 * method on this checkout) the reference alone, so its figures are there when capbench's are.
 */
async function measure(
  target: Target,
  bin: string,
  args: { count: number; trials: number },
  fixture: Fixture,
  capbenchProblem: string | null,
): Promise<Result> {
  const { label, method } = target;
  const res = empty(label, capbenchProblem);
  res.count = args.count;
  // One reference window not recorded, as capbench's warm-up window.
  await refTrial(bin, target.refArgs, args.count, fixture);
  for (let t = 0; t < args.trials; t++) {
    let ref = NaN;
    let nat = NaN;
    let refCpu = NaN;
    let natCpu = NaN;
    const runRef = async (): Promise<void> => {
      const r = await refTrial(bin, target.refArgs, args.count, fixture);
      if (r.exact) [ref, refCpu] = [r.pps, r.cpuPps];
      else res.notes.push(`ref trial ${t + 1} inexact: ${r.detail}`);
    };
    const runNative = async (): Promise<void> => {
      if (capbenchProblem) return;
      const { rows, tscHz } = await runCapbench([
        '--methods',
        method,
        '--tier',
        'native',
        '--mode',
        'drain',
        '--count',
        String(args.count),
        '--fixture',
        'udp64',
        '--trials',
        '1',
        ...target.capbenchArgs,
      ]);
      const row = rows.find((r) => r.method === method && r.tier === 'native');
      const problem = rowProblem(row);
      if (problem) res.notes.push(`capbench trial ${t + 1}: ${problem}`);
      else {
        nat = row!.ppsSamples[0] ?? NaN;
        natCpu = tscHz / (row!.trials[0]?.cyclesPerPacket.read ?? NaN);
      }
    };
    // Alternate which goes first, so neither always runs on a cooler or warmer machine.
    if (t % 2 === 0) {
      await runRef();
      await runNative();
    } else {
      await runNative();
      await runRef();
    }
    if (Number.isFinite(ref)) res.ref.push(ref);
    if (Number.isFinite(nat)) res.native.push(nat);
    if (Number.isFinite(ref) && Number.isFinite(nat)) res.paired.push(nat / ref);
    if (Number.isFinite(refCpu) && Number.isFinite(natCpu)) res.pairedCpu.push(natCpu / refCpu);
    console.log(
      `  ${label} trial ${t + 1}: ref ${pps(ref)}, capbench native ${capbenchProblem ? 'unavailable' : pps(nat)}, ratio ${ratio(nat / ref)}; ` +
        `per CPU-second: ref ${pps(refCpu)}, capbench ${pps(natCpu)}, ratio ${ratio(natCpu / refCpu)}`,
    );
  }
  return res;
}

async function main(): Promise<void> {
  const args = parseArgs(
    process.argv.slice(2),
    { count: 'auto', trials: 5, methods: METHODS.join(',') },
    'native-vs-ref [--count N|auto] [--trials T] [--methods a,b,...|dpdk:PMD]',
  );
  requireRoot();
  installCleanup(() => activeGenerator?.stop());

  const targets = targetsOf(args.methods.split(',').filter((m) => m !== ''));
  const fixture = await loadFixture(DEFAULT_FIXTURE);
  const capbench = listMethods();
  const { bins, log } = buildRefs();

  console.log(
    `native tier vs reference C programs: drain of N frames of ${fixture.frames[0]!.length} bytes ` +
      `(udp64), ${args.trials} alternating trials each; generator on CPU ${GEN_CPU}, readers on CPU ${CAP_CPU}`,
  );
  console.log(`load average at start: ${loadAverage()}`);

  const results: Result[] = [];
  for (const target of targets) {
    const { label, method } = target;
    const avail = capbench.get(method);
    const bin = bins.get(method);
    const capbenchProblem = avail?.available
      ? null
      : `capbench: unavailable (${avail?.reason || 'not listed'})`;
    if (!bin) {
      const why =
        log.split('\n').find((l) => l.includes(`${method}.c`) && /error/i.test(l)) ??
        'see make output';
      results.push(empty(label, `unavailable (reference did not build: ${why.trim()})`));
    } else {
      results.push(
        await measure(
          target,
          bin,
          { count: drainCount(label, args.count), trials: args.trials },
          fixture,
          capbenchProblem,
        ),
      );
    }
  }

  console.log();
  const body = results.map((r) => {
    if (r.problem && r.ref.length === 0) return [r.method, r.problem];
    if (r.problem) return [r.method, String(r.count), ppsRange(stats(r.ref)), r.problem];
    const paired = stats(r.paired);
    const met = paired.n > 0 ? (paired.median >= GOAL ? 'met' : 'NOT met') : 'no data';
    return [
      r.method,
      String(r.count),
      ppsRange(stats(r.ref)),
      ppsRange(stats(r.native)),
      ratioRange(paired),
      ratio(stats(r.native).mean / stats(r.ref).mean),
      ratioRange(stats(r.pairedCpu)),
      `≥ ${GOAL.toFixed(2)}`,
      met,
    ];
  });
  printTable(
    [
      'method',
      'N',
      'ref pps mean (min–max)',
      'capbench native pps',
      'native/ref median (min–max)',
      'of means',
      'per CPU-second',
      'goal',
      '',
    ],
    body,
  );
  for (const r of results) for (const n of r.notes) console.log(`note: ${r.method}: ${n}`);
  console.log(`load average at end: ${loadAverage()}`);
}

runMain(main);
