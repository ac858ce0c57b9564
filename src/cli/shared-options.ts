/** Options `run` and `sweep` share: what to measure and how, and where results go besides stdout. */
import type { Command } from 'commander';

export function addMeasureOptions(cmd: Command, defaults: { duration: string; trials: string }): Command {
  return cmd
    .option('--methods <list>', 'comma-separated methods, or all (see `capbench list`)', 'all')
    .option('--count <n>', 'drain: frames per trial', '100000')
    .option('--duration <seconds>', 'live: seconds of traffic per trial', defaults.duration)
    .option('--rate <pps|max>', 'offered rate in packets per second, or max for flat out', 'max')
    .option('--fixture <file>', 'pcap file of frames to replay, or a name in fixtures/ (udp64 … udp1518, imix, mixed)', 'udp64')
    .option('--trials <n>', 'measurement windows per row; rows show the mean and its margin of error', defaults.trials)
    .option('--tier <tier>', 'js: count in TypeScript (what a Node program pays); native: count in C; both', 'js')
    .option('--batch <n>', 'frames per native call for batched methods: recvmmsg(), pcap_dispatch(), an af-xdp rx peek (both tiers)', '64')
    .option('--gen-cpu <n>', 'CPU for the generator thread, -1 for any but --cap-cpu (default: 0 when there are two CPUs)')
    .option('--cap-cpu <n>', "CPU for the capturing thread, which Node's other threads then keep off; -1 for none (default: 1 when there are two CPUs)")
    .option('--ring-mb <mib>', 'packet-mmap: ring size in MiB (default: drain sizes it to hold --count, live uses 16)')
    .option('--queues <n>', 'af-xdp: bind a socket to each of queues 0..n-1', '1')
    .option('--zerocopy', 'af-xdp: ask for zero-copy (XDP_ZEROCOPY); an error where the driver has none, as on veth')
    .option('--noisy-rme <percent>', 'mark rows whose pps margin of error is above this as noisy', '10');
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json <file>', 'also write the results as JSON (schema capbench.results/2), atomically')
    .option('--format <gha|bmf>', 'also write the results for CI tools: gha (github-action-benchmark: pps to --out, cycles/pkt beside it) or bmf (Bencher)')
    .option('--out <file>', 'where --format writes')
    .option('--no-color', 'plain table even on a terminal');
}
