/**
 * `capbench send`'s table: one row per send method and tier, what each sent and what it cost the
 * sending side, failures and unavailable methods explained in numbered notes below it.
 */
import { trialDrops, type SendResults, type SendRow } from '../core/send-results.js';
import { DASH, percent, si, whole } from './format-number.js';
import { renderPayloadSweep } from './send-sweep.js';
import { columnLayout } from './columns.js';

const HEADERS = [
  'method',
  'tier',
  'payload',
  'tx pps',
  'rme',
  'Gbit/s payload',
  'wire',
  'cyc/pkt send',
  'rme',
  'sink',
  'total',
  'cyc/KiB',
  'zc done/copied',
  'sent = received + drops',
  'verdict',
];
const RIGHT = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

function gbps(n: number): string {
  return n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** What the sink had to count, last trial: "100,000 = 100,000 + 0", bytes for TCP. */
function accounting(row: SendRow): string {
  const t = row.trials.at(-1);
  if (!t) return DASH;
  if (row.kind === 'tcp') return `${whole(t.stats.bytes)} B = ${whole(t.sink.bytes)} B`;
  const sent = t.packets;
  return `${whole(sent)} = ${whole(t.sink.units)} + ${whole(trialDrops(t))}`;
}

/** No twin split behind `send`: TCP (a stream needs its peer), and every row of two-port mode. */
function unsplit(row: SendRow, r: SendResults): boolean {
  return row.kind === 'tcp' || r.link !== null;
}

function cells(row: SendRow, r: SendResults, note: (text: string) => string): string[] {
  const payload = row.payload === null ? 'frames' : whole(row.payload);
  if (!row.available)
    return [
      row.method,
      row.tier,
      payload,
      ...Array<string>(11).fill(''),
      note(row.reason ?? 'unavailable'),
    ];
  const s = row.summary;
  const zc = s?.zerocopy
    ? `${whole(s.zerocopy.completions)}/${whole(s.zerocopy.copied)}` +
      (s.zerocopy.outstanding > 0
        ? ` ${note(`${whole(s.zerocopy.outstanding)} zero-copy send(s) per window (mean) had no completion 2 s after the last send: the kernel still held their pages; counted as outstanding, not as completions (the datagrams themselves were all counted at the sink)`)}`
        : '')
    : '';
  const verdict = row.ok ? 'ok' : note(row.failures.join('; ') || 'no window finished');
  return [
    row.method,
    row.tier,
    payload,
    si(s?.txPps.mean ?? null),
    percent(s?.txPps.rme ?? null),
    s ? gbps(s.payloadGbps) : DASH,
    s ? gbps(s.wireGbps) : DASH,
    whole(s?.cyclesPerPacket.send.mean ?? null) + (unsplit(row, r) ? '*' : ''),
    percent(s?.cyclesPerPacket.send.rme ?? null),
    whole(s?.cyclesPerPacket.sink?.mean ?? null),
    whole(s?.cyclesPerPacket.total.mean ?? null),
    whole(s?.cyclesPerKiB.mean ?? null),
    zc,
    accounting(row),
    verdict,
  ];
}

function header(r: SendResults): string[] {
  const tb = r.testbed;
  const on = (b: boolean): string => (b ? 'on' : 'off');
  const c = r.config;
  return [
    `capbench send — ${r.host.cpuModel}, ${r.host.cpus} CPUs, Linux ${r.host.kernel}, TSC ${(r.host.tscHz / 1e6).toFixed(0)} MHz`,
    `cycles: ${r.cycles === 'perf' ? 'hardware counters' : 'CPU time × TSC'} of the sending thread and ksoftirqd; ${c.trials} round${c.trials === 1 ? '' : 's'} per row; ` +
      `frames from ${c.fixturePath.replace(/^.*\//, '')}, ${whole(c.count)} frames or datagrams per window`,
    where(r) +
      `sender end TSO ${on(tb.senderOffloads.tso)} GSO ${on(tb.senderOffloads.gso)}, ` +
      `sink end TSO ${on(tb.captureOffloads.tso)} GSO ${on(tb.captureOffloads.gso)} GRO ${on(tb.captureOffloads.gro)}; ` +
      `packet methods ${c.qdiscBypass ? 'bypass the qdisc (PACKET_QDISC_BYPASS)' : 'go through the qdisc'}`,
  ];
}

/** Where the frames went: the test bed, or two-port mode's ports and what links them. */
function where(r: SendResults): string {
  if (r.link === null) return 'test bed: veth, static neighbours, ';
  const over = r.link === 'veth' ? 'a veth pair' : 'a wire';
  return (
    `two-port mode: sent from ${r.config.genIface} in capbench's namespace to ${r.config.iface} over ${over}, ` +
    'both as found (capbench changes neither); '
  );
}

/** What the cycle columns mean: split by the twin pair, or (two-port mode) not split. */
function legend(r: SendResults): string[] {
  if (r.link !== null)
    return [
      'tx pps: frames per second. cyc/pkt, CPU time × TSC per packet; two-port mode has no twin pair, so',
      'the sending is not split from the receiving (*):',
      '  send*  the sending thread and ksoftirqd, while it sent to the sink: its own clocks alone. Over a veth',
      "         pair the receive runs inside the sender's calls, so send includes it; on a NIC it runs in the",
      "         capture port's interrupt and NAPI context, in neither column (in send only if ksoftirqd took it);",
      "  sink   the sink's reading thread alone;",
      '  total  send + sink. cyc/KiB: send per KiB of payload.',
      ...(r.link === 'wire'
        ? [
            "drops: what the sink's ring dropped, and what the ports' own counters say was lost where the sink cannot",
            "  see it: at GEN, frames the kernel took from the sender's calls that GEN never transmitted (tx_packets;",
            '  its qdisc or driver dropped them), and at CAP rx_dropped + rx_missed_errors + rx_errors.',
          ]
        : []),
    ];
  return [
    'tx pps: frames, datagrams (udp-gso: its segments) or TCP segments per second. cyc/pkt, CPU time × TSC per packet:',
    '  send   the sending thread and ksoftirqd, the same packets sent the same way into the twin veth, where',
    '         nothing receives them (the far end drops them as addressed to another host);',
    "  sink   what receiving added: on veth the sink's delivery (its socket or ring) runs inside the sender's",
    "         calls, so it is the sender's clocks with the sink less send, plus the sink's reading thread;",
    '  total  send + sink: what a packet cost the machine. cyc/KiB: send per KiB of payload.',
  ];
}

export function renderSendTable(r: SendResults): string {
  const notes: string[] = [];
  const note = (text: string): string => {
    notes.push(text);
    return `see note ${notes.length}`;
  };
  const body = r.rows.map((row) => cells(row, r, note));
  const line = columnLayout([HEADERS, ...body], (i) => RIGHT.has(i));
  const tcp = r.rows.filter((row) => row.kind === 'tcp' && row.summary);
  const footer = [
    ...legend(r),
    ...(tcp.length > 0
      ? [
          "  *      TCP has no twin (a stream needs its peer): send includes the receiver's delivery, sink is blank.",
        ]
      : []),
    ...tcp.map(
      (row) =>
        `${row.method}/${row.tier}: ${si(row.summary!.unitsPerSec.mean)} writes/s of ${whole(row.payload)} bytes`,
    ),
  ];
  return [
    ...header(r),
    '',
    line(HEADERS),
    ...body.map(line),
    '',
    ...footer,
    ...notes.map((n, i) => `${i + 1}. ${n}`),
    ...renderPayloadSweep(r),
    '',
  ].join('\n');
}
