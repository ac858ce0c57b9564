/** `capbench run`: options in, table (and JSON file) out. */
import type { Command } from 'commander';
import { RUN_DEFAULTS } from '../../core/config.js';
import { runBenchmark } from '../../core/runner.js';
import { realMachine } from '../../core/real-machine.js';
import { METHODS } from '../../methods/registry.js';
import { renderJson } from '../../report/json.js';
import { renderTable } from '../../report/table.js';
import { runConfig, type RawRunOptions } from '../parse-options.js';
import { useColor, type CliContext } from '../context.js';
import {
  addMeasureOptions,
  addOutputOptions,
  addPortOptions,
  withDefault,
} from '../shared-options.js';
import { progressLine } from '../progress.js';
import { throwIfRowsFailed } from '../verdict.js';
import { machineFormat, writeMachineFormat, writeOutput } from '../output.js';

interface RunOptions extends RawRunOptions {
  json?: string;
  format?: string;
  out?: string;
  color: boolean;
  normalised?: boolean;
  explain?: boolean;
}

export function registerRun(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('run')
    .description('measure capture methods side by side and print a table (the main job)')
    .option(
      '--mode <mode>',
      `drain: fill the buffer, then time the reader alone; live: capture while traffic flows (default: ${RUN_DEFAULTS.mode}; live with --iface alone)`,
    )
    .option(
      '--threads <n>',
      withDefault(
        'reader threads per method, a socket each: PACKET_FANOUT (the AF_PACKET methods) or a queue each (af-xdp); rows report the sum, --json each thread',
        RUN_DEFAULTS.threads,
      ),
    )
    .option(
      '--precision <percent>',
      withDefault(
        "add interleaved rounds until every row's cycles at reference speed have at most this margin of error (95%)",
        RUN_DEFAULTS.precision ?? 'off',
      ),
    )
    .option(
      '--max-time <seconds>',
      withDefault(
        '...or until the run has taken this long; the header says which stopped it',
        RUN_DEFAULTS.maxTimeSec,
      ),
    )
    .option(
      '--normalised',
      'show cycles at reference speed (each window scaled by the speed probe around it), for comparing with other runs; the default table shows what the machine paid',
    )
    .option(
      '--explain',
      'show, per packet, the counts that explain a cost: calls into the kernel, packets per call and per wake-up, context switches, minor faults',
    );
  addOutputOptions(addMeasureOptions(addPortOptions(cmd, 'run'), RUN_DEFAULTS))
    .addHelpText(
      'after',
      `
Columns:
  rx pps            frames delivered to the counter per second of the window (mean over trials)
  rme               relative margin of error of the mean on its left (95%); ! above --noisy-rme
  drops             frames lost after they were sent: at the capture interface and in the method's
                    own buffer (per source in --json; * = derived as sent − received; ? = unknown)
  cyc/pkt deliver   the kernel's work to bring a frame where the method reads it: on veth it runs
                    on the sender's CPU, read from the generator's and ksoftirqd's CPU clocks,
                    against a twin veth that nothing captures (drain) or the none baseline per
                    frame sent (live); --iface: machine-wide busy time against none (with
                    --gen-iface: while the frames were delivered, per frame sent)
  read              the capturing thread's CPU time per packet
  total             deliver + read: what a packet costs the machine
  IPv4              frames the counter saw as IPv4 against what the fixture says was sent
  —                 not measured, or resting on fewer than 1,000 packets (notes say which)

Examples:
  capbench run
  capbench run --methods socket,pcap-native --mode live --duration 5 --rate 200000
  capbench run --fixture mixed --count 20000 --tier both --json out.json
  capbench run --iface eth1 --gen-iface eth2 --methods none,socket,packet-mmap   (eth2 cabled to eth1)
  capbench run --threads 2 --fixture udp64-flows --methods none,socket-mmsg,packet-mmap,af-xdp --gen-threads 2`,
    )
    .action(async (opts: RunOptions) => {
      const format = machineFormat(opts.format, opts.out);
      const config = runConfig({ ...opts, mode: opts.mode });
      const results = await runBenchmark(config, {
        methods: METHODS,
        machine: realMachine,
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(progressLine('measuring', p)),
      });
      ctx.progress('');
      if (opts.json) await writeOutput(opts.json, renderJson(results));
      if (format) await writeMachineFormat(results, format, opts.out!);
      const view =
        opts.explain === true ? 'explain' : opts.normalised === true ? 'normalised' : 'paid';
      process.stdout.write(renderTable(results, { color: useColor(opts.color), view }));
      throwIfRowsFailed(results);
    });
}
