/** `capbench sweep`: the same measurement over frame sizes, offered rates and reader threads, one row per point. */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { runSweep } from '../../core/sweep.js';
import { realMachine } from '../../core/real-machine.js';
import { METHODS } from '../../methods/registry.js';
import { renderJson } from '../../report/json.js';
import { renderTable } from '../../report/table.js';
import { useColor, type CliContext } from '../context.js';
import {
  addMeasureOptions,
  addOutputOptions,
  addPortOptions,
  withDefault,
} from '../shared-options.js';
import { SWEEP_DEFAULTS } from '../../core/config.js';
import { progressLine } from '../progress.js';
import { throwIfRowsFailed } from '../verdict.js';
import { machineFormat, writeMachineFormat, writeOutput } from '../output.js';
import { runConfig, threads, type RawRunOptions } from '../parse-options.js';
import { positiveInt } from '../../shared/parse-number.js';

interface SweepOptions extends RawRunOptions {
  sizes?: string;
  rates?: string;
  loss?: string;
  json?: string;
  format?: string;
  out?: string;
  color: boolean;
}

function list(
  flag: string,
  value: string,
  item: (flag: string, value: string) => number = positiveInt,
): number[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag} needs a comma-separated list of numbers`);
  return items.map((s) => item(flag, s));
}

/** --threads for a sweep: a list of counts, none twice (two rows at one point would be one point measured twice). */
export function threadList(value: string): number[] {
  const counts = list('--threads', value, threads);
  const twice = counts.find((n, i) => counts.indexOf(n) !== i);
  if (twice !== undefined)
    throw new UsageError(`--threads lists ${twice} twice: give each thread count once`);
  return counts;
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
    .description(
      'repeat the measurement over frame sizes, offered rates and reader threads, one row per point',
    )
    .option(
      '--sizes <list>',
      'frame sizes on the wire, from 64,128,256,512,1024,1280,1518 (fixtures/udp<size>.pcap)',
    )
    .option(
      '--rates <list|search>',
      'offered rates in pps (live mode), or search: the highest rate with loss within --loss',
    )
    .option('--loss <percent>', withDefault('search: the largest loss a rate may show', 0))
    // run's --threads (run.ts) takes one count; a sweep's takes a list, so each command defines its own.
    .option(
      '--threads <list>',
      withDefault(
        'reader threads, a list: every size and rate is measured at each count, e.g. 1,2,4 (a socket each: PACKET_FANOUT, or a queue each for af-xdp)',
        SWEEP_DEFAULTS.threads,
      ),
    )
    .option(
      '--mode <mode>',
      withDefault('drain or live, for points without --rates', SWEEP_DEFAULTS.mode),
    );
  addOutputOptions(addMeasureOptions(addPortOptions(cmd, 'sweep'), SWEEP_DEFAULTS))
    .addHelpText(
      'after',
      `
Examples:
  capbench sweep --sizes 64,512,1518 --methods socket-mmsg,pcap-native
  capbench sweep --methods packet-mmap --rates search --loss 0.1
  capbench sweep --methods socket --rates 100000,200000,400000 --duration 2
  capbench sweep --methods none,packet-mmap,af-xdp --mode live --threads 1,2,4 --fixture udp64-flows --gen-threads 2
  capbench sweep --methods packet-mmap --threads 1,2 --rates search --fixture udp64-flows
  capbench sweep --iface eth1 --gen-iface eth2 --sizes 64,512,1518 --methods socket-mmsg`,
    )
    .action(async (opts: SweepOptions) => {
      const format = machineFormat(opts.format, opts.out);
      // The list is sweep's to read: the shared parser knows --threads as one count.
      const { threads: threadsGiven, ...measure } = opts;
      const base = runConfig(measure, SWEEP_DEFAULTS);
      const sizes = opts.sizes === undefined ? null : list('--sizes', opts.sizes);
      const rates =
        opts.rates === undefined
          ? null
          : opts.rates === 'search'
            ? 'search'
            : list('--rates', opts.rates);
      const counts = threadsGiven === undefined ? null : threadList(threadsGiven);
      if (sizes === null && rates === null && counts === null)
        throw new UsageError('sweep needs --sizes, --rates, --threads or several of them');
      const results = await runSweep(
        { base, sizes, rates, threads: counts, loss: lossFraction(opts.loss ?? '0') },
        {
          methods: METHODS,
          machine: realMachine,
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(progressLine('sweeping', p)),
        },
      );
      ctx.progress('');
      if (opts.json) await writeOutput(opts.json, renderJson(results));
      if (format) await writeMachineFormat(results, format, opts.out!);
      process.stdout.write(renderTable(results, { color: useColor(opts.color) }));
      throwIfRowsFailed(results);
    });
}
