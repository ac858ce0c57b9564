/**
 * Goal: "drain of 64-byte frames: js tier of packet-mmap and af-xdp ≥ 0.8× their native tier pps."
 *
 * Each round is, per method, one `capbench run --methods M --tier both --mode drain --count N
 * --fixture udp64 --trials 1`: both tiers measured back to back on the same test bed, each after
 * its own warm-up window (generator on CPU 0, capture thread on CPU 1). The ratio is js pps /
 * native pps, judged on the median of the per-round ratios (other work on this 2-CPU machine
 * moves single windows by tens of percent); the ratio of the means is shown beside it. So is the
 * same ratio from the capturing thread's CPU time (native cycles/pkt ÷ js cycles/pkt), which time
 * others spent on CPU 1 does not move (capbench keeps its own helper threads off that CPU, but not
 * the rest of the machine's work).
 * Methods capbench cannot run on this checkout are shown as unavailable.
 *
 *   npm run build && node dist/bench/js-vs-native.js [--count N|auto] [--trials T] [--methods a,b]
 *                                                    [--batch B]   (capbench's --batch; its default if not given)
 *
 * --count auto (the default): 4 M frames for packet-mmap, 500 k for af-xdp (see ring-common.ts).
 * Needs root.
 */
import {
  CAP_CPU,
  GEN_CPU,
  drainCount,
  installCleanup,
  listMethods,
  loadAverage,
  parseArgs,
  pps,
  ppsRange,
  printTable,
  ratio,
  ratioRange,
  requireRoot,
  rowProblem,
  runCapbench,
  runMain,
  stats,
} from './ring-common.js';

const GOAL = 0.8;

interface Result {
  count: number;
  js: number[];
  native: number[];
  paired: number[];
  /** native thread cycles/pkt ÷ js thread cycles/pkt, per round. */
  cpuPaired: number[];
  problem: string | null;
  notes: string[];
}

async function main(): Promise<void> {
  const args = parseArgs(
    process.argv.slice(2),
    { count: 'auto', trials: 5, methods: 'packet-mmap,af-xdp', batch: '' },
    'js-vs-native [--count N|auto] [--trials T] [--methods a,b,...] [--batch B]',
  );
  const batch = args.batch === '' ? [] : ['--batch', args.batch];
  requireRoot();
  installCleanup();
  const methods = args.methods.split(',').filter((m) => m !== '');
  console.log(
    `js tier vs native tier: drain of N udp64 frames, ${args.trials} rounds of both tiers, ` +
      `batch ${args.batch === '' ? "capbench's default" : args.batch}; ` +
      `generator on CPU ${GEN_CPU}, capture on CPU ${CAP_CPU}`,
  );
  console.log(`load average at start: ${loadAverage()}`);

  const capbench = listMethods();
  const results = new Map<string, Result>();
  for (const m of methods) {
    const avail = capbench.get(m);
    results.set(m, {
      count: drainCount(m, args.count),
      js: [],
      native: [],
      paired: [],
      cpuPaired: [],
      notes: [],
      problem: avail?.available ? null : `unavailable (capbench: ${avail?.reason || 'not listed'})`,
    });
  }
  for (let t = 0; t < args.trials; t++) {
    for (const [m, res] of results) {
      if (res.problem) continue;
      const { rows } = await runCapbench([
        '--methods',
        m,
        '--tier',
        'both',
        '--mode',
        'drain',
        '--count',
        String(res.count),
        '--fixture',
        'udp64',
        '--trials',
        '1',
        ...batch,
      ]);
      const js = rows.find((r) => r.method === m && r.tier === 'js');
      const nat = rows.find((r) => r.method === m && r.tier === 'native');
      const pj = rowProblem(js);
      const pn = rowProblem(nat);
      if (pj) res.notes.push(`round ${t + 1} js: ${pj}`);
      if (pn) res.notes.push(`round ${t + 1} native: ${pn}`);
      const a = pj ? NaN : (js!.ppsSamples[0] ?? NaN);
      const b = pn ? NaN : (nat!.ppsSamples[0] ?? NaN);
      if (Number.isFinite(a)) res.js.push(a);
      if (Number.isFinite(b)) res.native.push(b);
      if (Number.isFinite(a) && Number.isFinite(b)) res.paired.push(a / b);
      const cpu =
        pj || pn ? NaN : (nat!.cyclesPerPacket.read ?? NaN) / (js!.cyclesPerPacket.read ?? NaN);
      if (Number.isFinite(cpu)) res.cpuPaired.push(cpu);
      console.log(
        `  round ${t + 1} ${m}: js ${pps(a)}, native ${pps(b)}, js/native ${ratio(a / b)} (by thread CPU ${ratio(cpu)})`,
      );
    }
  }

  console.log();
  const body = methods.map((m) => {
    const r = results.get(m)!;
    if (r.problem) return [m, r.problem];
    const js = stats(r.js);
    const nat = stats(r.native);
    const paired = stats(r.paired);
    const met = paired.n > 0 ? (paired.median >= GOAL ? 'met' : 'NOT met') : 'no data';
    return [
      m,
      String(r.count),
      ppsRange(js),
      ppsRange(nat),
      ratioRange(paired),
      ratio(js.mean / nat.mean),
      ratioRange(stats(r.cpuPaired)),
      `≥ ${GOAL.toFixed(2)}`,
      met,
    ];
  });
  printTable(
    [
      'method',
      'N',
      'js pps mean (min–max)',
      'native pps mean (min–max)',
      'js/native median (min–max)',
      'of means',
      'by thread CPU',
      'goal',
      '',
    ],
    body,
  );
  for (const [m, r] of results) for (const n of r.notes) console.log(`note: ${m}: ${n}`);
  console.log(`load average at end: ${loadAverage()}`);
}

runMain(main);
