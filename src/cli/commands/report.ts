/** `capbench report RESULTS.json -o report.html`: a results file as one self-contained HTML page. */
import type { Command } from 'commander';
import { renderHtml } from '../../report/html.js';
import { loadResults } from '../../report/load-results.js';
import { writeOutput } from '../output.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'turn a results file (from run --json) into one self-contained HTML page with charts',
    )
    .argument(
      '<results>',
      'results JSON (schema capbench.results/3, or /2, or /1: then without deliver)',
    )
    .requiredOption('-o, --out <file>', 'HTML file to write (atomically)')
    .addHelpText(
      'after',
      `
The page has the host and configuration, bar charts of rx pps (with 95% error bars) and of
cycles/pkt (deliver and read piled up to total), line charts of pps against frame size or offered
rate for sweep rows, and every row with its drops, cycles and verdict. It loads nothing from the
network: CSS and SVG are inline, so it can be attached to a CI run or opened offline.

Example:
  capbench run --json out.json && capbench report out.json -o report.html`,
    )
    .action(async (resultsPath: string, opts: { out: string }) => {
      const results = await loadResults(resultsPath);
      await writeOutput(opts.out, renderHtml(results));
      process.stderr.write(`wrote ${opts.out}\n`);
    });
}
