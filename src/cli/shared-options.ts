/**
 * Options `run` and `sweep` share: what to measure and how, and where results go besides stdout.
 * commander gets no default values: an absent option stays undefined, parse-options.ts falls back
 * to the command's defaults table (core/config.ts), and the help text shows that same table.
 */
import type { Command } from 'commander';
import type { MeasureDefaults } from '../core/config.js';
import { RESULTS_SCHEMA } from '../core/results.js';
import { optionFlag } from '../core/method-options.js';
import { METHOD_OPTIONS } from '../methods/registry.js';

/** "text (default: value)", as commander would print it for a default it had been given. */
export function withDefault(text: string, value: string | number): string {
  return `${text} (default: ${value})`;
}

/** The options methods declare (methods/registry.ts METHOD_OPTIONS), with their defaults in --help. */
function addMethodOptions(cmd: Command): Command {
  for (const o of METHOD_OPTIONS) {
    const shown =
      o.default === null || o.default === false ? o.help : withDefault(o.help, String(o.default));
    cmd.option(optionFlag(o), shown);
  }
  return cmd;
}

export function addMeasureOptions(cmd: Command, d: MeasureDefaults): Command {
  return addMethodOptions(cmd)
    .option(
      '--methods <list>',
      withDefault('comma-separated methods, or all (see `capbench list`)', 'all'),
    )
    .option(
      '--count <n>',
      withDefault('drain: frames per trial', d.count) +
        '; a method whose buffer holds fewer drains what it holds (its row says so), or refuses a --count given',
    )
    .option(
      '--duration <seconds>',
      withDefault('live: seconds of traffic per trial', d.durationSec),
    )
    .option(
      '--rate <pps|max>',
      withDefault('offered rate in packets per second, or max for flat out', d.rate),
    )
    .option(
      '--fixture <file>',
      withDefault(
        'pcap file of frames to replay, or a name in fixtures/ (udp64 … udp1518, imix, mixed)',
        d.fixture,
      ),
    )
    .option(
      '--trials <n>',
      d.precision === null
        ? withDefault(
            'measurement windows per row, interleaved across rows; rows show the mean and its margin of error',
            d.trials,
          )
        : withDefault(
            'exactly this many measurement windows per row, interleaved across rows, instead of adding rounds until --precision; without it, the fewest rounds before that is judged',
            d.trials,
          ),
    )
    .option(
      '--tier <tier>',
      withDefault(
        'js: count in TypeScript (what a Node program pays); native: count in C; both',
        d.tiers.join(','),
      ),
    )
    .option(
      '--gen-cpu <n>',
      'CPU for the generator thread, -1 for any but --cap-cpu (default: 0 when there are two CPUs)',
    )
    .option(
      '--cap-cpu <n>',
      "CPU for the capturing thread, which Node's other threads then keep off; -1 for none (default: 1 when there are two CPUs)",
    )
    .option(
      '--fanout <mode>',
      withDefault(
        'with --threads above 1: how PACKET_FANOUT spreads frames over the readers: hash (by flow), cpu (by receiving CPU), lb (round robin), qm (by receive queue)',
        d.fanout,
      ),
    )
    .option(
      '--cap-cpus <list>',
      'CPUs for reader threads (--threads), e.g. 1,3 or 2-5; reader i on the i-th, round robin (default: every CPU, those without a generator thread first)',
    )
    .option(
      '--gen-threads <n>',
      withDefault(
        "generator threads, on --gen-cpu and the CPUs after it: on veth each CPU sends on a queue of its own, so more threads spread frames over the test bed's queues",
        d.generatorThreads,
      ),
    )
    .option(
      '--noisy-rme <percent>',
      withDefault('mark figures whose margin of error is above this as noisy', d.noisyRme),
    )
    .option(
      '--deliver <on|off>',
      withDefault(
        "measure the kernel's delivery (deliver, and so total); off where the machine's clocks cannot hold it, as under qemu's software emulation: rows then show read alone",
        d.deliver ? 'on' : 'off',
      ),
    );
}

/**
 * Where the frames go: the test bed when neither is given. `run` also captures traffic from
 * elsewhere with --iface alone; a sweep offers its own traffic, so it needs both.
 */
export function addPortOptions(cmd: Command, command: 'run' | 'sweep'): Command {
  const iface =
    command === 'run'
      ? "capture on this port instead of a test bed: traffic from elsewhere (live only), or from capbench's generator on --gen-iface"
      : "capture on this port instead of a test bed, traffic from capbench's generator on --gen-iface";
  return cmd
    .option('--iface <name>', iface)
    .option(
      '--gen-iface <name>',
      "with --iface CAP: capbench's generator sends from this port, cabled to CAP (two NIC ports back to back, or two NICs on one hub): " +
        'exact counts, in drain and live. capbench changes neither port: both must be up and carry nothing else, with an MTU for the ' +
        'fixture, and a NIC at CAP promiscuous (it drops frames for other addresses)',
    );
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option(
      '--json <file>',
      `also write the results as JSON (schema ${RESULTS_SCHEMA}), atomically`,
    )
    .option(
      '--format <gha|bmf>',
      'also write the results for CI tools: gha (github-action-benchmark: pps to --out, cycles/pkt beside it) or bmf (Bencher)',
    )
    .option('--out <file>', 'where --format writes')
    .option('--no-color', 'plain table even on a terminal');
}
