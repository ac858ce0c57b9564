/**
 * The CI perf suite: a fixed, short drain run of the batched and ring methods in both tiers.
 *
 *   node dist/bench/ci-perf.js [OUT_DIR] [--base DIR] [--rounds N]
 *
 * Alone it writes OUT_DIR/results.json (and gha.json, gha.cycles.json) for a tracker. With --base
 * DIR, a built checkout of the base commit (say main: `git worktree add DIR main && cd DIR && npm
 * ci`), it is an A/B in one job: the base's capbench and this one run alternately, round by round,
 * on the same machine minutes apart, so that they share its weather, rather than against results
 * another machine kept from another day (GitHub's runners differ by a few percent from run to run,
 * and a cached base may come from other hardware). Each side's rounds are merged into one results
 * file (OUT_DIR/base.json, OUT_DIR/results.json) at one reference speed, and `capbench compare`
 * judges them at reference speed; the exit status is compare's (1: a regression).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSpeed } from '../src/core/drift.js';
import type { Results } from '../src/core/results.js';
import { compare, exitStatus } from '../src/report/compare.js';
import { renderComparisonText } from '../src/report/compare-text.js';
import { renderGha } from '../src/report/gha.js';
import { commonReference, mergeRounds } from './merge-rounds.js';

const HERE = fileURLToPath(new URL('../../', import.meta.url));
const METHODS = 'socket-mmsg,pcap-native,packet-mmap,af-xdp';
/** Alone: one run of this many windows per row. A/B: this many per round and side. */
const TRIALS_ALONE = 5;
const TRIALS_PER_ROUND = 3;
const BUDGET_SEC = { alone: 60, ab: 600 };

function usage(): never {
  process.stderr.write('usage: node dist/bench/ci-perf.js [OUT_DIR] [--base DIR] [--rounds N]\n');
  process.exit(2);
}

function parse(argv: string[]): { out: string; base: string | null; rounds: number } {
  let out = 'perf';
  let base: string | null = null;
  let rounds = 4;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--base') base = argv[++i] ?? usage();
    else if (a === '--rounds') rounds = Number(argv[++i] ?? usage());
    else if (!a.startsWith('--')) out = a;
    else usage();
  }
  if (!Number.isInteger(rounds) || rounds < 1) usage();
  return { out, base, rounds };
}

/** One drain run of a checkout's capbench into `json`; its results. */
function run(checkout: string, json: string, trials: number): Results {
  const r = spawnSync(
    process.execPath,
    [
      join(checkout, 'bin', 'capbench.js'),
      'run',
      '--methods',
      METHODS,
      '--tier',
      'both',
      '--mode',
      'drain',
      '--count',
      '100000',
      '--fixture',
      'udp64',
      '--trials',
      String(trials),
      '--json',
      json,
      '--no-color',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`capbench in ${checkout} exited ${r.status ?? r.signal}`);
  return JSON.parse(readFileSync(json, 'utf8')) as Results;
}

function main(): void {
  const { out, base, rounds } = parse(process.argv.slice(2));
  mkdirSync(out, { recursive: true });
  const started = performance.now();
  const write = (name: string, results: Results): void =>
    writeFileSync(join(out, name), JSON.stringify(results, null, 2) + '\n');
  let status: number;
  if (base === null) {
    const results = run(HERE, join(out, 'results.json'), TRIALS_ALONE);
    writeFileSync(join(out, 'gha.json'), renderGha(results, 'pps'));
    writeFileSync(join(out, 'gha.cycles.json'), renderGha(results, 'cycles'));
    status = results.rows.every((r) => !r.available || r.ok) ? 0 : 1;
  } else {
    const sides: Record<'base' | 'next', Results[]> = { base: [], next: [] };
    for (let r = 0; r < rounds; r++) {
      // Each round starts with the other side, so that neither always follows the other.
      const order: ('base' | 'next')[] = r % 2 === 0 ? ['base', 'next'] : ['next', 'base'];
      for (const side of order) {
        const checkout = side === 'base' ? resolve(base) : HERE;
        sides[side].push(run(checkout, join(out, `${side}-round-${r + 1}.json`), TRIALS_PER_ROUND));
        process.stderr.write(
          `ci perf: round ${r + 1}/${rounds}, ${side === 'base' ? 'base' : 'candidate'} done\n`,
        );
      }
    }
    const reference = commonReference([...sides.base, ...sides.next]);
    const merge = (runs: Results[]): Results => {
      const m = mergeRounds(runs, reference);
      return { ...m, speed: runSpeed(m.rows) };
    };
    const [baseResults, nextResults] = [merge(sides.base), merge(sides.next)];
    write('base.json', baseResults);
    write('results.json', nextResults);
    writeFileSync(join(out, 'gha.json'), renderGha(nextResults, 'pps'));
    writeFileSync(join(out, 'gha.cycles.json'), renderGha(nextResults, 'cycles'));
    const comparison = compare(baseResults, nextResults, { thresholdPct: 10 });
    process.stdout.write(renderComparisonText(comparison, { color: false }));
    status = exitStatus(comparison);
  }
  const sec = (performance.now() - started) / 1000;
  const budget = base === null ? BUDGET_SEC.alone : BUDGET_SEC.ab;
  process.stdout.write(
    `ci perf suite: ${sec.toFixed(1)} s (budget ${budget} s); results in ${out}/\n`,
  );
  if (sec > budget) process.stdout.write(`warning: over the ${budget} s budget\n`);
  process.exitCode = status;
}

main();
