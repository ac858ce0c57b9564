/**
 * `capbench compare BASE.json NEW.json`: what changed between two runs, and an exit status a CI
 * job can gate on (0 no regression, 1 something got slower beyond the threshold and the noise,
 * 2 the files cannot be compared).
 */
import type { Command } from 'commander';
import { CheckFailedError, UsageError } from '../../shared/errors.js';
import {
  changeLabel,
  compare,
  countRegressions,
  DEFAULT_THRESHOLD_PCT,
  regressions,
} from '../../report/compare.js';
import { changeText, renderComparisonText } from '../../report/compare-text.js';
import { loadResults } from '../../report/load-results.js';
import { useColor } from '../context.js';
import { parseFormat, writeMachineFormat, writeOutput } from '../output.js';

/** "10%" or "10" → 10. Zero is allowed: then any change beyond the noise counts. */
export function parseThreshold(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  if (m === null)
    throw new UsageError(`--threshold must be a percentage like 10% or 10, got '${value}'`);
  return Number(m[1]);
}

interface CompareOptions {
  threshold: string;
  format: string;
  out?: string;
  color: boolean;
  raw?: boolean;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two results files (from run --json) row by row; exit 1 on a regression')
    .argument('<base>', 'results JSON of the reference run')
    .argument('<new>', 'results JSON of the run to judge')
    .option(
      '--threshold <percent>',
      'smallest change that counts, e.g. 10% or 10',
      `${DEFAULT_THRESHOLD_PCT}%`,
    )
    .option(
      '--format <format>',
      'text: a table; gha: github-action-benchmark JSON (two files, see below); bmf: Bencher Metric Format JSON',
      'text',
    )
    .option('--out <file>', 'write there instead of stdout (atomically); required for --format gha')
    .option(
      '--raw',
      'judge what the machines paid, not the figures at reference speed (a change of machine speed between the runs then counts as a change)',
    )
    .option('--no-color', 'plain table even on a terminal')
    .addHelpText(
      'after',
      `
Rows are matched by method, tier, mode and sweep point; a row in only one file is listed, not an
error. Figures are judged at reference speed: every window's cycles and rate scaled by the speed
probe capbench times around it, the new run's to the base run's reference, so that a machine
that ran slower as a whole does not count as a regression; the output says how much slower or
faster the new run's machine was. --raw judges what was paid; a file without probes (written by
an older capbench) is judged raw too, with a warning.

For each matched row two metrics are compared: rx pps (bigger is better) and cycles/pkt
(smaller is better). cycles/pkt is total (deliver + read: what a packet costs the machine) where
both rows have it, else read (the capturing thread alone: a capbench.results/1 file, or a row
whose deliver was not measured); the metric column says which. change = new ÷ base − 1, shown
with its noise margin from Welch's t-test over the trials (±? with fewer than two trials:
then only the threshold applies). The margins hold at 95% for all the figures of a comparison
together (Bonferroni: with m figures judged, each at 1 − 5%/m): at 95% each, identical code
would fail about one comparison in four somewhere among a dozen figures.

Verdict: faster / slower when the change is beyond both the noise and --threshold; otherwise
same (noise) or same (<threshold); not compared when a side has no figure, which never fails.
Drain rows also compare calls/pkt and pkts/batch, which the method and its batch set and the
machine's speed does not: more calls or smaller batches beyond 5% fail (context switches and
faults depend on timing and never do).

Exit status:
  0  nothing got slower beyond the threshold and the noise
  1  some row got slower beyond both, or a drain count worse beyond 5% (rows unavailable or
     failed in either run never count)
  2  a file is unreadable, not capbench.results/3, /2 or /1, or the two have no row in common

--format gha --out bench.json writes two github-action-benchmark files, because that action's
direction is per file:
  bench.json         rx pps       (tool: customBiggerIsBetter)
  bench.cycles.json  cycles/pkt   (tool: customSmallerIsBetter)
Both list the NEW run's rows that ran and passed their checks; extra says the change against base.

Examples:
  capbench compare main.json pr.json
  capbench compare main.json pr.json --threshold 5%
  capbench compare main.json pr.json --format gha --out bench.json`,
    )
    .action(async (basePath: string, nextPath: string, opts: CompareOptions) => {
      const thresholdPct = parseThreshold(opts.threshold);
      const format = parseFormat(opts.format);
      if (format === 'gha' && opts.out === undefined) {
        throw new UsageError(
          '--format gha writes two files (pps, and cycles/pkt beside it): give --out FILE',
        );
      }
      const [base, next] = [await loadResults(basePath), await loadResults(nextPath)];
      const comparison = compare(base, next, {
        thresholdPct,
        judge: opts.raw === true ? 'paid' : 'reference-speed',
      });
      if (comparison.judgedNote !== null)
        process.stderr.write(`capbench: warning: ${comparison.judgedNote}\n`);

      if (format === 'text') {
        const text = renderComparisonText(comparison, {
          color: opts.out === undefined && useColor(opts.color),
        });
        if (opts.out === undefined) process.stdout.write(text);
        else await writeOutput(opts.out, text);
      } else {
        const written = await writeMachineFormat(comparison, format, opts.out ?? null);
        for (const path of written) process.stderr.write(`wrote ${path}\n`);
      }

      if (comparison.matched === 0) {
        throw new UsageError(
          `${basePath} and ${nextPath} have no rows in common (different methods, tiers, modes or sweep points)`,
        );
      }
      const counts = countRegressions(comparison);
      const bad = [
        ...regressions(comparison).map(
          ({ row, change }) => `${row.label} ${changeLabel(change)} ${changeText(change)}`,
        ),
        ...counts.map(
          ({ row, change }) => `${row.label} ${change.name} ×${change.ratio.toFixed(2)}`,
        ),
      ];
      if (bad.length > 0) {
        const drainCounts = counts.length === 0 ? '' : ', or in a drain count';
        throw new CheckFailedError(
          `${bad.length} regression${bad.length === 1 ? '' : 's'} beyond ${thresholdPct}% and the noise${drainCounts}: ${bad.join('; ')}`,
        );
      }
    });
}
