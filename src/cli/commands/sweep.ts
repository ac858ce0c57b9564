/** `capbench sweep`: the same measurement over frame sizes and offered rates, one row per point. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { runSweep } from '../../core/sweep.js';
import { METHODS } from '../../methods/registry.js';
import { renderJson } from '../../report/json.js';
import { renderTable } from '../../report/table.js';
import { useColor, type CliContext } from '../context.js';
import { addMeasureOptions, addOutputOptions } from '../shared-options.js';
import { throwIfRowsFailed } from '../verdict.js';
import { machineFormat, writeMachineFormat, writeOutput } from '../output.js';
import { positiveInt, runConfig, type RawRunOptions } from '../parse-options.js';
import type { Progress } from '../../core/rows.js';
import { si } from '../../report/format-number.js';

interface SweepOptions extends RawRunOptions {
  sizes?: string;
  rates?: string;
  loss: string;
  json?: string;
  format?: string;
  out?: string;
  color: boolean;
}

function list(flag: string, value: string): number[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag} needs a comma-separated list of numbers`);
  return items.map((s) => positiveInt(flag, s));
}

function lossFraction(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 100) {
    throw new UsageError(`--loss must be a percentage from 0 up to 100, got '${value}'`);
  }
  return n / 100;
}

export function registerSweep(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sweep')
    .description('repeat the measurement over frame sizes and offered rates, one row per point')
    .option('--sizes <list>', 'frame sizes on the wire, from 64,128,256,512,1024,1280,1518 (fixtures/udp<size>.pcap)')
    .option('--rates <list|search>', 'offered rates in pps (live mode), or search: the highest rate with loss within --loss')
    .option('--loss <percent>', 'search: the largest loss a rate may show', '0')
    .option('--mode <mode>', 'drain or live, for points without --rates', 'drain');
  addOutputOptions(addMeasureOptions(cmd, { duration: '1', trials: '3' }))
    .addHelpText(
      'after',
      `
Examples:
  capbench sweep --sizes 64,512,1518 --methods socket-mmsg,pcap-native
  capbench sweep --methods packet-mmap --rates search --loss 0.1
  capbench sweep --methods socket --rates 100000,200000,400000 --duration 2`,
    )
    .action(async (opts: SweepOptions) => {
      const format = machineFormat(opts.format, opts.out);
      const base = runConfig(opts);
      const sizes = opts.sizes === undefined ? null : list('--sizes', opts.sizes);
      const rates = opts.rates === undefined ? null : opts.rates === 'search' ? 'search' : list('--rates', opts.rates);
      if (sizes === null && rates === null) throw new UsageError('sweep needs --sizes, --rates or both');
      const results = await runSweep(
        { base, sizes, rates, loss: lossFraction(opts.loss) },
        { methods: METHODS, signal: ctx.signal, onProgress: (p: Progress) => ctx.progress(`sweeping ${p.method}/${p.tier}: window ${p.trial}/${p.trials}${p.lastPps === null ? '' : `, last ${si(p.lastPps)} pps`}…`) },
      );
      ctx.progress('');
      if (opts.json) await writeOutput(opts.json, renderJson(results));
      if (format) await writeMachineFormat(results, format, opts.out!);
      process.stdout.write(renderTable(results, { color: useColor(opts.color) }));
      throwIfRowsFailed(results);
    });
}
