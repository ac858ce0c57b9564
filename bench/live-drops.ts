/**
 * Goal: "live at the generator's maximum rate: zero drops for packet-mmap and af-xdp on this
 * machine."
 *
 * One `capbench run --methods packet-mmap,af-xdp --mode live --rate max --duration S
 * --tier both --trials T`: the generator (CPU 0) sends flat out for S seconds per trial while the
 * method captures (CPU 1), then the tail is read. Reports, per method and tier, what was sent,
 * received and dropped (at the capture interface and inside the method; capbench checks
 * sent == received + drops), and the worst trial. Rows capbench cannot run are shown as
 * unavailable.
 *
 *   npm run build && node dist/bench/live-drops.js [--duration S] [--trials T] [--tier js|native|both]
 *
 * Needs root.
 */
import { totalDrops } from '../src/core/accounting.js';
import {
  CAP_CPU,
  GEN_CPU,
  installCleanup,
  loadAverage,
  parseArgs,
  pps,
  printTable,
  requireRoot,
  runCapbench,
  runMain,
} from './ring-common.js';

async function main(): Promise<void> {
  const args = parseArgs(
    process.argv.slice(2),
    { duration: 3, trials: 3, tier: 'both', methods: 'packet-mmap,af-xdp' },
    'live-drops [--duration S] [--trials T] [--tier js|native|both] [--methods a,b,...]',
  );
  requireRoot();
  installCleanup();
  console.log(
    `live capture at --rate max for ${args.duration} s per trial, ${args.trials} trials per row (udp64); ` +
      `generator on CPU ${GEN_CPU}, capture on CPU ${CAP_CPU}`,
  );
  console.log(`load average at start: ${loadAverage()}`);
  const { rows } = await runCapbench([
    '--methods',
    args.methods,
    '--tier',
    args.tier,
    '--mode',
    'live',
    '--rate',
    'max',
    '--duration',
    String(args.duration),
    '--fixture',
    'udp64',
    '--trials',
    String(args.trials),
  ]);

  console.log();
  const body = rows
    .filter((r) => r.method !== 'none')
    .map((r) => {
      if (!r.available) return [r.method, r.tier, `unavailable (${r.reason ?? ''})`];
      const worst = Math.max(...r.trials.map((t) => totalDrops(t.drops) ?? NaN));
      const met = r.dropped === 0 ? 'met' : 'NOT met';
      return [
        r.method,
        r.tier,
        String(r.sent ?? '-'),
        String(r.received),
        pps(r.pps ?? NaN),
        `${r.dropped} (if ${r.drops.captureIf}, method ${r.drops.method})`,
        String(worst),
        String(r.resent),
        r.ok ? 'ok' : `FAIL: ${r.reason ?? ''}`,
        '0',
        met,
      ];
    });
  printTable(
    [
      'method',
      'tier',
      'sent',
      'received',
      'rx pps',
      'drops (where)',
      'worst trial',
      'resent',
      'checks',
      'goal',
      '',
    ],
    body,
  );
  console.log(
    "resent: frames the sender's veth refused under backpressure and the generator sent again (not loss).",
  );
  console.log(`load average at end: ${loadAverage()}`);
}

runMain(main);
