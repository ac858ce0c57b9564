/** `capbench run`: options in, table (and JSON file) out. */
import type { Command } from 'commander';
import { CheckFailedError } from '../../core/errors.js';
import { runBenchmark } from '../../core/runner.js';
import type { Progress } from '../../core/rows.js';
import { si } from '../../report/format-number.js';
import { METHODS } from '../../methods/registry.js';
import { renderJson } from '../../report/json.js';
import { renderTable } from '../../report/table.js';
import { runConfig, type RawRunOptions } from '../parse-options.js';
import { useColor, type CliContext } from '../context.js';
import { machineFormat, writeMachineFormat, writeOutput } from '../output.js';

interface RunOptions extends RawRunOptions {
  json?: string;
  format?: string;
  out?: string;
  color: boolean;
}

function progressLine(p: Progress): string {
  const which = p.trial === 0 ? 'warm-up' : `trial ${p.trial}/${p.trials}`;
  return `measuring ${p.method}/${p.tier}: ${which}${p.lastPps === null ? '' : `, last ${si(p.lastPps)} pps`}…`;
}

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('measure capture methods side by side and print a table (the main job)')
    .option('--methods <list>', 'comma-separated methods, or all (see `capbench list`)', 'all')
    .option('--mode <mode>', 'drain: fill the buffer, then time the reader alone; live: capture while traffic flows (default: drain; live with --iface)')
    .option('--count <n>', 'drain: frames per trial', '100000')
    .option('--duration <seconds>', 'live: seconds of traffic per trial', '2')
    .option('--rate <pps|max>', 'offered rate in packets per second, or max for flat out', 'max')
    .option('--fixture <file>', 'pcap file of frames to replay, or a name in fixtures/ (udp64 … udp1518, imix, mixed)', 'udp64')
    .option('--trials <n>', 'measurement windows per row; rows show the mean and its margin of error', '5')
    .option('--tier <tier>', 'js: count in TypeScript (what a Node program pays); native: count in C; both', 'js')
    .option('--iface <name>', 'capture on this interface instead of a test bed; traffic must come from elsewhere (live only)')
    .option('--batch <n>', 'frames per recvmmsg()/pcap_dispatch() call for batched methods', '64')
    .option('--gen-cpu <n>', 'CPU for the generator thread, -1 for none (default: 0 when there are two CPUs)')
    .option('--cap-cpu <n>', 'CPU for the capturing thread, -1 for none (default: 1 when there are two CPUs)')
    .option('--ring-mb <mib>', 'packet-mmap: ring size in MiB (default: drain sizes it to hold --count, live uses 16)')
    .option('--queues <n>', 'af-xdp: bind a socket to each of queues 0..n-1', '1')
    .option('--zerocopy', 'af-xdp: ask for zero-copy (XDP_ZEROCOPY); an error where the driver has none, as on veth')
    .option('--noisy-rme <percent>', 'mark rows whose pps margin of error is above this as noisy', '10')
    .option('--json <file>', 'also write the results as JSON (schema capbench.results/1), atomically')
    .option('--format <gha|bmf>', 'also write the results for CI tools: gha (github-action-benchmark: pps to --out, cycles/pkt beside it) or bmf (Bencher)')
    .option('--out <file>', 'where --format writes')
    .option('--no-color', 'plain table even on a terminal')
    .addHelpText(
      'after',
      `
Columns:
  rx pps            frames delivered to the counter per second of the window (mean over trials)
  rme               relative margin of error of that mean (95%)
  drops             frames lost, summed over the generator's veth end, the capture interface and
                    the method's own buffer (per source in --json)
  cyc/pkt thread    the capturing thread's user+system CPU time × TSC rate ÷ packets
  cyc/pkt system Δ  machine-wide busy time minus the none baseline, × TSC rate ÷ packets: on veth
                    the kernel's copy into a socket or ring runs on the sender's CPU, so only this
                    figure charges it
  IPv4              frames the counter saw as IPv4 against what the fixture says was sent

Examples:
  capbench run
  capbench run --methods socket,pcap-native --mode live --duration 5 --rate 200000
  capbench run --fixture mixed --count 20000 --tier both --json out.json`,
    )
    .action(async (opts: RunOptions) => {
      const format = machineFormat(opts.format, opts.out);
      const config = runConfig({ ...opts, mode: opts.mode });
      const results = await runBenchmark(config, {
        methods: METHODS,
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(progressLine(p)),
      });
      ctx.progress('');
      if (opts.json) await writeOutput(opts.json, renderJson(results));
      if (format) await writeMachineFormat(results, format, opts.out!);
      process.stdout.write(renderTable(results, { color: useColor(opts.color) }));
      const failed = results.rows.filter((r) => r.available && !r.ok);
      if (failed.length > 0) {
        throw new CheckFailedError(`${failed.length} row${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => `${r.method}/${r.tier}`).join(', ')}`);
      }
    });
}
