/** `capbench send`: the send methods side by side, one table, exact counts at a fixed sink. */
import type { Command } from 'commander';
import { SEND_DEFAULTS, SEND_METHOD_NAMES } from '../../core/send-config.js';
import { runSend } from '../../core/send-runner.js';
import { SEND_RESULTS_SCHEMA } from '../../core/send-results.js';
import { realSendMachine } from '../../core/real-machine.js';
import { SEND_METHODS } from '../../senders/registry.js';
import { renderJson } from '../../report/json.js';
import { renderSendTable } from '../../report/send-table.js';
import { sendConfig, type RawSendOptions } from '../send-options.js';
import { withDefault } from '../shared-options.js';
import { writeOutput } from '../output.js';
import { throwIfRowsFailed } from '../verdict.js';
import type { CliContext } from '../context.js';

interface SendOptions extends RawSendOptions {
  json?: string;
}

export function registerSend(program: Command, ctx: CliContext): void {
  program
    .command('send')
    .description(
      'measure ways of sending side by side: packet sockets, UDP (sendmmsg, GSO, MSG_ZEROCOPY), TCP (MSG_ZEROCOPY), exact counts at a fixed sink',
    )
    .option(
      '--methods <list>',
      withDefault(`comma-separated, or all: ${SEND_METHOD_NAMES.join(', ')}`, 'all'),
    )
    .option(
      '--tier <tier>',
      withDefault(
        'js: one addon call per system call from TypeScript (what a Node program pays); native: the same calls from C; both',
        SEND_DEFAULTS.tiers.join(','),
      ),
    )
    .option(
      '--count <n>',
      withDefault(
        'frames or datagrams per window (udp-gso: its segments); TCP rows move as many bytes as that many 1,472-byte datagrams, or with --count given make that many writes',
        SEND_DEFAULTS.count,
      ),
    )
    .option(
      '--payload <bytes>',
      `UDP payload per datagram (1..65,507; udp-gso: per call) and TCP bytes per write (1..1,048,576) (default: ${SEND_DEFAULTS.udpPayload}, udp-gso ${SEND_DEFAULTS.gsoSegments} × --gso-size, TCP ${SEND_DEFAULTS.tcpPayload})`,
    )
    .option(
      '--gso-size <bytes>',
      withDefault(
        'udp-gso: the datagram size UDP_SEGMENT cuts each call into (1..1472)',
        SEND_DEFAULTS.gsoSize,
      ),
    )
    .option(
      '--batch <n>',
      withDefault(
        'frames or datagrams per sendmmsg(), frames per TX ring kick (1..1024)',
        SEND_DEFAULTS.batch,
      ),
    )
    .option(
      '--qdisc-bypass',
      'packet methods set PACKET_QDISC_BYPASS: frames go straight to the driver, as trafgen sends',
    )
    .option(
      '--fixture <file>',
      withDefault(
        'frames the packet methods replay: a pcap file or a name in fixtures/',
        SEND_DEFAULTS.fixture,
      ),
    )
    .option(
      '--trials <n>',
      withDefault('windows per row, interleaved across rows', SEND_DEFAULTS.trials),
    )
    .option(
      '--sender-cpu <n>',
      "CPU for the sending thread, which Node's other threads keep off; -1 leaves it (default: 0 when there are two CPUs)",
    )
    .option(
      '--sink-cpu <n>',
      "CPU for the sink's reading thread; -1 leaves it (default: 1 when there are two CPUs)",
    )
    .option(
      '--iface <name>',
      'two-port mode, with --gen-iface: the sink reads this port (CAP) instead of the test bed (frame methods and fastnet-inject only)',
    )
    .option(
      '--gen-iface <name>',
      "with --iface CAP: the frame methods send from this port (GEN), in capbench's own namespace, cabled to CAP (two NIC ports " +
        'back to back, or a veth pair). capbench changes neither port: both must be up and carry nothing else, with an MTU for ' +
        'the fixture, and a NIC at CAP promiscuous (it drops frames for other addresses)',
    )
    .option(
      '--json <file>',
      `also write the results as JSON (schema ${SEND_RESULTS_SCHEMA}), atomically`,
    )
    .addHelpText(
      'after',
      `
What is measured: each method sends --count packets into the test bed's veth from the sender's
namespace; a sink on the capture end counts every frame (a TPACKET_V3 ring, the same C counter as
\`run\`), datagram (a UDP socket) or byte (a TCP socket) on its own CPU, and a row passes only if
sent = received + drops. Cycles are the sending thread's CPU time plus ksoftirqd's, × TSC. On veth
the receive side runs in the sender's calls, so the sink's delivery is part of what a row costs.

Two-port mode (--iface CAP --gen-iface GEN): no test bed. The frame methods (packet-send,
packet-sendmmsg, packet-tx-ring, af-xdp-tx) and fastnet-inject send from GEN in capbench's own
namespace and the sink reads CAP; they are what --methods all means there. UDP and TCP methods
are refused: between two ports of one namespace the kernel routes them locally, never on the
wire. There is no twin pair, so send is the sender's own clocks and sink the sink's thread, not
split (marked *). Over a wire, frames the ports lost (GEN tx_dropped, tx_errors; CAP rx_dropped,
rx_missed_errors, rx_errors) count as drops.

Examples:
  capbench send
  capbench send --methods udp-send,udp-gso,udp-zerocopy --payload 1472 --tier both
  capbench send --methods tcp-send,tcp-zerocopy --payload 262144
  capbench send --methods packet-sendmmsg,packet-tx-ring --qdisc-bypass --fixture udp1518
  capbench send --iface eth1 --gen-iface eth2 --methods packet-sendmmsg,af-xdp-tx   (eth2 cabled to eth1)`,
    )
    .action(async (opts: SendOptions) => {
      const config = sendConfig(opts);
      const results = await runSend(config, {
        methods: SEND_METHODS,
        machine: realSendMachine,
        signal: ctx.signal,
        onProgress: (text) => ctx.progress(text),
      });
      ctx.progress('');
      if (opts.json) await writeOutput(opts.json, renderJson(results));
      process.stdout.write(renderSendTable(results));
      throwIfRowsFailed(results);
    });
}
