/**
 * The send side against its published anchors: capbench's native send rows against the kernel's
 * own selftests and trafgen, on the same veth, into the same sink.
 *
 *   goal: udp-gso, udp-send, tcp-zerocopy, udp-zerocopy native ≥ 0.9 × the kernel selftests
 *         udpgso_bench_tx.c and msg_zerocopy.c (tools/testing/selftests/net/ of Debian's
 *         linux-source-6.1); packet-tx-ring native ≥ 1.0 × trafgen (netsniff-ng, TX ring).
 *   shapes, printed beside, not targets: UDP GSO about 2.4 × the bytes per cycle of plain UDP
 *         sends (udpgso_bench_tx, 1472 × 42); MSG_ZEROCOPY "generally only effective at writes
 *         over around 10 KB".
 *
 * The selftests are built from /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1): the
 * two .c files and the one header udpgso_bench_tx.c includes (tools/testing/selftests/kselftest.h,
 * for KSFT_SKIP) are extracted into a temporary directory and built with `gcc -O2`; msg_zerocopy.c
 * needs nothing else from the tree (linux/rds.h comes from linux-libc-dev).
 *
 * One test bed (testbed.ts, readied by send-testbed.ts) for the whole run. A run of either side:
 * a fresh capbench Sink (net/sink.ts) on the capture end, its thread on CPU 1; the sender on
 * CPU 0, inside the sender's namespace:
 *
 *   reference: `ip netns exec NS taskset -c 0 REF ...` for --secs seconds (trafgen: --frames);
 *   capbench:  this file again as a child (`--drive SPEC`), which opens the method's session
 *              (senders/registry.ts SEND_METHODS) against the same sink, natively, with the
 *              runner's units (an 8 MiB area of payload, or the fixture's frame), its thread
 *              reserved on CPU 0, for the same seconds (trafgen's pair: the same frames).
 *
 * Both are measured the same way, from outside: the sink's count (datagrams and frames that
 * reached its socket or ring, drops included; a stream's bytes) sampled every 5 ms from CPU 1,
 * the rate taken between the first and last samples strictly inside the run, so that process
 * start and end are left out for both. Each side's own count is kept as a check. Rounds are
 * interleaved (reference first in even rounds, capbench first in odd ones) after one warm-up
 * run of each; the ratio is capbench / reference per round, judged on the median. The sender's
 * CPU (the process's rusage, plus ksoftirqd/0) gives bytes per cycle for the shapes.
 *
 *   npm run build && node dist/bench/send-vs-ref.js [--secs S] [--rounds R] [--frames N] [--pairs a,b]
 *
 * Needs root, gcc, xz, the linux-source-6.1 package and trafgen. A benchmark reports; it does
 * not fail the build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostInfo } from '../src/core/host.js';
import type { SendMethodName } from '../src/core/send-config.js';
import type { SendUnits } from '../src/core/send-method.js';
import { l4Units } from '../src/core/send-runner.js';
import { softirqThreads } from '../src/core/softirq-clock.js';
import { native } from '../src/native/binding.js';
import { FIXTURES_DIR } from '../src/net/fixture.js';
import { readPcapFile } from '../src/net/pcap-file.js';
import { prepareSendTestbed } from '../src/net/send-testbed.js';
import { Sink, type SinkStatus } from '../src/net/sink.js';
import { createTestbed, destroyTestbed, type Testbed } from '../src/net/testbed.js';
import { SEND_METHODS } from '../src/senders/registry.js';
import {
  installCleanup,
  loadAverage,
  parseArgs,
  printTable,
  ratio,
  ratioRange,
  requireRoot,
  runMain,
  stats,
  tempDir,
} from './ring-common.js';

const SELF = fileURLToPath(import.meta.url);
const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const SELFTESTS = 'linux-source-6.1/tools/testing/selftests';
const SENDER_CPU = 0;
const SINK_CPU = 1;
/** As the send runner: the sink reads as frames arrive, so its buffer only absorbs bursts. */
const SINK_BUFFER_BYTES = 64 << 20;
const SINK_IDLE_MS = 1_000;
const SAMPLE_MS = 5;
/** A datagram filling the 1,500-byte MTU, and udpgso_bench_tx's default call: 42 of them. */
const MSS = 1472;
const GSO_PAYLOAD = MSS * 42;
/** TCP writes: 60 KiB, below msg_zerocopy's largest (65,435) and a whole number of pages. */
const TCP_PAYLOAD = 61_440;
const PUBLISHED_GSO = 2.4;

type Kind = 'udp' | 'tcp' | 'frames';

interface RefContext {
  bins: { udpgso: string; msgzc: string };
  tb: Testbed;
  port: number;
  secs: number;
  frames: number;
  trafgenConf: string;
}

interface Pair {
  id: string;
  method: SendMethodName;
  kind: Kind;
  /** L4 payload per datagram, GSO call or write; null for frames. */
  payload: number | null;
  gsoSize: number;
  qdiscBypass: boolean;
  /** Datagrams one unit is on the wire (udp-gso: its segments). */
  segs: number;
  refName: string;
  refArgs(c: RefContext): string[];
  /** ≥ this many × the reference, or null: a shape's baseline, not judged. */
  goal: number | null;
  /** Sent for a fixed count of frames (trafgen's pair) rather than for --secs. */
  counted: boolean;
}

const PAIRS: Pair[] = [
  {
    id: 'udp-gso',
    method: 'udp-gso',
    kind: 'udp',
    payload: GSO_PAYLOAD,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: GSO_PAYLOAD / MSS,
    refName: `udpgso_bench_tx -S ${MSS} -s ${GSO_PAYLOAD}`,
    refArgs: (c) => [
      c.bins.udpgso,
      ...['-4', '-a', '-D', c.tb.captureAddr, '-p', String(c.port), '-l', String(c.secs)],
      ...['-s', String(GSO_PAYLOAD), '-S', String(MSS)],
    ],
    goal: 0.9,
    counted: false,
  },
  {
    id: 'udp-send',
    method: 'udp-send',
    kind: 'udp',
    payload: MSS,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: 1,
    refName: `udpgso_bench_tx -s ${MSS}`,
    refArgs: (c) => [
      c.bins.udpgso,
      ...['-4', '-a', '-D', c.tb.captureAddr, '-p', String(c.port), '-l', String(c.secs)],
      ...['-s', String(MSS)],
    ],
    goal: 0.9,
    counted: false,
  },
  {
    id: 'tcp-zerocopy',
    method: 'tcp-zerocopy',
    kind: 'tcp',
    payload: TCP_PAYLOAD,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: 1,
    refName: `msg_zerocopy -z -s ${TCP_PAYLOAD} tcp`,
    refArgs: (c) => msgZerocopy(c, true, TCP_PAYLOAD, 'tcp'),
    goal: 0.9,
    counted: false,
  },
  {
    id: 'udp-zerocopy',
    method: 'udp-zerocopy',
    kind: 'udp',
    payload: MSS,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: 1,
    refName: `msg_zerocopy -z -s ${MSS} udp`,
    refArgs: (c) => msgZerocopy(c, true, MSS, 'udp'),
    goal: 0.9,
    counted: false,
  },
  {
    id: 'packet-tx-ring',
    method: 'packet-tx-ring',
    kind: 'frames',
    payload: null,
    gsoSize: MSS,
    // trafgen bypasses the qdisc unless -q: the same path on both sides.
    qdiscBypass: true,
    segs: 1,
    refName: 'trafgen (TX ring, qdisc bypass)',
    refArgs: (c) => [
      'trafgen',
      ...['--dev', c.tb.senderIf, '--conf', c.trafgenConf, '--cpus', '1'],
      ...['--num', String(c.frames), '--no-sock-mem', '--notouch-irq'],
    ],
    goal: 1.0,
    counted: true,
  },
  // Baselines for the MSG_ZEROCOPY shape: the same programs and payloads without zero-copy.
  {
    id: 'tcp-send-copy',
    method: 'tcp-send',
    kind: 'tcp',
    payload: TCP_PAYLOAD,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: 1,
    refName: `msg_zerocopy -s ${TCP_PAYLOAD} tcp`,
    refArgs: (c) => msgZerocopy(c, false, TCP_PAYLOAD, 'tcp'),
    goal: null,
    counted: false,
  },
  {
    id: 'udp-send-copy',
    method: 'udp-send',
    kind: 'udp',
    payload: MSS,
    gsoSize: MSS,
    qdiscBypass: false,
    segs: 1,
    refName: `msg_zerocopy -s ${MSS} udp`,
    refArgs: (c) => msgZerocopy(c, false, MSS, 'udp'),
    goal: null,
    counted: false,
  },
];

/** msg_zerocopy's sender (-t is its run time: 200 ms + SECS s; the test name comes last). */
function msgZerocopy(c: RefContext, zerocopy: boolean, payload: number, test: string): string[] {
  return [
    c.bins.msgzc,
    ...['-4', '-D', c.tb.captureAddr, '-p', String(c.port), '-t', String(c.secs)],
    ...['-C', String(SENDER_CPU), '-s', String(payload)],
    ...(zerocopy ? ['-z'] : []),
    test,
  ];
}

// ---- the capbench side, as a child process -------------------------------------------------------

interface DriveSpec {
  method: SendMethodName;
  payload: number | null;
  gsoSize: number;
  qdiscBypass: boolean;
  /** The one frame (hex) for frame methods. */
  frameHex: string | null;
  /** Units to send, or 0: send for `secs`. */
  count: number;
  secs: number;
  netnsPath: string;
  ifname: string;
  srcAddr: string;
  dstAddr: string;
  dstPort: number;
}

interface DriveResult {
  taken: number;
  bytes: number;
  elapsedSec: number;
  cpuSec: number;
  zcCompletions: number;
  zcCopied: number;
}

function frameUnits(frame: Uint8Array): SendUnits {
  return { data: frame, table: Uint32Array.of(0, frame.length), count: 1 };
}

async function drive(spec: DriveSpec): Promise<void> {
  native().reserveCpu(SENDER_CPU);
  const method = SEND_METHODS.get(spec.method);
  if (!method) throw new Error(`no send method ${spec.method}`);
  const units =
    spec.frameHex !== null
      ? frameUnits(Uint8Array.from(Buffer.from(spec.frameHex, 'hex')))
      : l4Units(spec.payload!);
  const session = method.open({
    tier: 'native',
    netnsPath: spec.netnsPath,
    ifname: spec.ifname,
    srcAddr: spec.srcAddr,
    dstAddr: spec.dstAddr,
    dstPort: spec.dstPort,
    units,
    config: { batch: 64, qdiscBypass: spec.qdiscBypass, gsoSize: spec.gsoSize },
    maxUnitBytes: spec.payload ?? units.table[1]!,
  });
  const signal = new AbortController().signal;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (spec.count > 0) {
      await session.send({ units: spec.count, signal });
    } else {
      // For `secs`, in pieces of about 20 ms at the rate so far.
      const until = t0 + spec.secs * 1000;
      let sent = 0;
      let piece = 64;
      while (performance.now() < until) {
        await session.send({ units: piece, signal });
        sent += piece;
        piece = Math.max(16, Math.round((sent / (performance.now() - t0)) * 20));
      }
    }
    session.finish();
    const elapsedSec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const st = session.stats();
    session.shutdown();
    const result: DriveResult = {
      taken: st.taken,
      bytes: st.bytes,
      elapsedSec,
      cpuSec: (cpu.user + cpu.system) / 1e6,
      zcCompletions: st.zcCompletions,
      zcCopied: st.zcCopied,
    };
    console.log(JSON.stringify(result));
  } finally {
    session.close();
  }
}

// ---- building the references ------------------------------------------------------------------

function buildRefs(): RefContext['bins'] {
  if (!existsSync(TARBALL))
    throw new Error(`${TARBALL} is missing: apt-get install linux-source-6.1`);
  const dir = tempDir();
  const members = [
    `${SELFTESTS}/net/udpgso_bench_tx.c`,
    `${SELFTESTS}/net/msg_zerocopy.c`,
    `${SELFTESTS}/kselftest.h`,
  ];
  const tar = spawnSync('tar', ['-xJf', TARBALL, '-C', dir, ...members], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`extracting the selftests failed:\n${tar.stderr}`);
  const bin = (name: string): string => {
    const out = join(dir, name);
    const src = join(dir, SELFTESTS, 'net', `${name}.c`);
    const cc = spawnSync('gcc', ['-O2', '-o', out, src], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc -O2 ${name}.c failed:\n${cc.stderr}`);
    return out;
  };
  return { udpgso: bin('udpgso_bench_tx'), msgzc: bin('msg_zerocopy') };
}

/** trafgen's own format: one packet, bytes as hex, no comments (its parser rejects them here). */
function trafgenConfig(frame: Uint8Array): string {
  return `{ ${Array.from(frame, (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }\n`;
}

// ---- one run of either side ------------------------------------------------------------------------

type Side = 'ref' | 'capbench';

interface Run {
  side: Side;
  /** Datagrams or frames per second reaching the sink (0 for TCP), and payload MB/s. */
  unitsPerSec: number;
  mbPerSec: number;
  /**
   * What reached the sink over the whole run: datagrams or frames (its socket's or ring's drops
   * included: the sender's work was done) or a stream's bytes, and their payload bytes.
   */
  delivered: number;
  deliveredBytes: number;
  sinkDrops: number;
  claimed: number | null;
  /** The sender's CPU seconds (process rusage) and ksoftirqd/0's over the run. */
  cpuSec: number;
  softirqSec: number;
  /** MSG_ZEROCOPY: completions and how many the kernel copied, where the sender says. */
  zc: string;
  note: string;
}

interface Sample {
  t: number;
  units: number;
  bytes: number;
}

let ksoftirqd0: number | null = null;

function softirq0Sec(): number {
  ksoftirqd0 ??=
    softirqThreads().find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === `ksoftirqd/${SENDER_CPU}`;
      } catch {
        return false;
      }
    }) ?? -1;
  return ksoftirqd0 < 0 ? 0 : native().taskCpuTime(ksoftirqd0) / 1e9;
}

/** Rate between the first and last samples strictly inside the run (moved, not yet final). */
function steadyRate(samples: Sample[], key: 'units' | 'bytes', final: number): number {
  const inside = samples.filter((s) => s[key] > 0 && s[key] < final);
  const a = inside[0];
  const b = inside[inside.length - 1];
  if (!a || !b || b.t - a.t < 50) return NaN;
  return ((b[key] - a[key]) / (b.t - a.t)) * 1000;
}

const active = new Set<ChildProcess>();

function killActive(): void {
  for (const c of active) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

async function runSide(
  side: Side,
  pair: Pair,
  tb: Testbed,
  ctx: Omit<RefContext, 'port' | 'tb'>,
  frame: Uint8Array,
): Promise<Run> {
  const sink = new Sink({
    kind: pair.kind,
    ifname: tb.captureIf,
    addr: tb.captureAddr,
    port: 0,
    bufferBytes: SINK_BUFFER_BYTES,
    cpu: SINK_CPU,
  });
  try {
    let argv: string[];
    if (side === 'ref') {
      const refArgv = pair.refArgs({ ...ctx, tb, port: sink.port });
      // bash's `times` after the reference exits: its rusage (children's line), to the ms.
      argv = [
        ...['ip', 'netns', 'exec', tb.netns, 'taskset', '-c', String(SENDER_CPU)],
        ...['bash', '-c', '"$@"; s=$?; times; exit $s', 'ref', ...refArgv],
      ];
    } else {
      const spec: DriveSpec = {
        method: pair.method,
        payload: pair.payload,
        gsoSize: pair.gsoSize,
        qdiscBypass: pair.qdiscBypass,
        frameHex: pair.kind === 'frames' ? Buffer.from(frame).toString('hex') : null,
        count: pair.counted ? ctx.frames : 0,
        secs: ctx.secs,
        netnsPath: tb.netnsPath,
        ifname: tb.senderIf,
        srcAddr: tb.senderAddr,
        dstAddr: tb.captureAddr,
        dstPort: sink.port,
      };
      // Both CPUs: drive() keeps CPU 0 for its sending thread and moves Node's helpers off it.
      argv = ['taskset', '-c', `${SENDER_CPU},${SINK_CPU}`, process.execPath, SELF];
      argv.push('--drive', JSON.stringify(spec));
    }
    const soft0 = softirq0Sec();
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    active.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    let code: number | null = null;
    let exited = false;
    const closed = new Promise<void>((resolve) =>
      child.on('close', (c) => {
        code = c;
        exited = true;
        resolve();
      }),
    );
    const samples: Sample[] = [];
    while (!exited) {
      const s = sink.status();
      samples.push({ t: performance.now(), units: s.units + s.drops, bytes: s.bytes });
      await sleep(SAMPLE_MS);
    }
    await closed;
    active.delete(child);
    const softirqSec = softirq0Sec() - soft0;
    if (code !== 0)
      throw new Error(`${side} ${pair.id} exited with ${String(code)}:\n${err}${out}`);

    let claimed: number | null = null;
    let cpuSec = NaN;
    let zc = '';
    let note = '';
    if (side === 'ref') {
      const times = [...out.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].pop();
      if (times)
        cpuSec =
          Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
      const text = err + out;
      const gso = /sum udp tx:.*?(\d+) msgs/.exec(text);
      const mz = /tx=(\d+) \((\d+) MB\) txc=(\d+) zc=([yn])/.exec(text);
      const tg = /(\d+) packets outgoing/.exec(text);
      if (gso) claimed = Number(gso[1]) * pair.segs;
      else if (mz) {
        claimed = Number(mz[1]);
        if (pair.refName.includes('-z'))
          zc = `${mz[3]} done, ${mz[4] === 'y' ? 'not copied' : 'copied'}`;
      } else if (tg) claimed = Number(tg[1]);
    } else {
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as DriveResult;
      claimed = r.taken * pair.segs;
      cpuSec = r.cpuSec;
      if (r.zcCompletions > 0) zc = `${r.zcCompletions} done, ${r.zcCopied} copied`;
    }
    // The rest arrives after the sender ends: a stream's end, or the count it claims.
    const final: SinkStatus = await sink.settle(
      (s) => (pair.kind === 'tcp' ? s.eof : claimed !== null && s.units + s.drops >= claimed),
      SINK_IDLE_MS,
      new AbortController().signal,
    );
    const got = final.units + final.drops;
    if (pair.kind !== 'tcp' && claimed !== null && claimed !== got)
      note = `sent ${claimed}, ${got} reached the sink`;
    if (pair.kind === 'tcp' && !final.eof) note = 'the sink never saw the end of the stream';
    // A datagram's or frame's payload is fixed: MB/s from the count, drops included.
    const each = pair.kind === 'frames' ? frame.length : pair.payload! / pair.segs;
    const unitsPerSec = pair.kind === 'tcp' ? NaN : steadyRate(samples, 'units', got);
    return {
      side,
      unitsPerSec,
      mbPerSec:
        pair.kind === 'tcp'
          ? steadyRate(samples, 'bytes', final.bytes) / 1e6
          : (unitsPerSec * each) / 1e6,
      delivered: pair.kind === 'tcp' ? final.bytes : got,
      deliveredBytes: pair.kind === 'tcp' ? final.bytes : got * each,
      sinkDrops: final.drops,
      claimed,
      cpuSec,
      softirqSec,
      zc,
      note,
    };
  } finally {
    sink.close();
  }
}

/** The figure a pair is judged on: datagrams or frames per second; MB/s for a stream. */
function headline(pair: Pair, r: Run): number {
  return pair.kind === 'tcp' ? r.mbPerSec : r.unitsPerSec;
}

/**
 * The same per second of the sender's CPU (its process and ksoftirqd/0), over the whole run:
 * what time others took from CPU 0 does not move it. The reference's rusage includes its own
 * set-up (a few ms), capbench's covers its sending and finish() only.
 */
function perCpuSecond(pair: Pair, r: Run): number {
  const cpu = r.cpuSec + r.softirqSec;
  return (pair.kind === 'tcp' ? r.delivered / 1e6 : r.delivered) / cpu;
}

// ---- main -----------------------------------------------------------------------------------------

interface PairResult {
  pair: Pair;
  ref: Run[];
  capbench: Run[];
  paired: number[];
  pairedCpu: number[];
  /** Why the pair stopped (a sender that failed, a tool that is missing), or null. */
  problem: string | null;
}

const fmtRate = (x: number): string =>
  !Number.isFinite(x) ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`;
const fmtMb = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');

function range(xs: number[], f: (x: number) => string): string {
  const s = stats(xs);
  return s.n === 0 ? '-' : `${f(s.mean)} (${f(s.min)}–${f(s.max)})`;
}

/** Payload bytes the sink got per cycle of the sender's CPU (process and ksoftirqd/0). */
function bytesPerCycle(runs: Run[], tscHz: number): number {
  return stats(runs.map((r) => r.deliveredBytes / ((r.cpuSec + r.softirqSec) * tscHz))).mean;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--drive') {
    await drive(JSON.parse(process.argv[3] ?? '{}') as DriveSpec);
    return;
  }
  const args = parseArgs(
    process.argv.slice(2),
    { secs: 2, rounds: 5, frames: 1_000_000, pairs: PAIRS.map((p) => p.id).join(',') },
    'send-vs-ref [--secs S] [--rounds R] [--frames N] [--pairs a,b,...]',
  );
  requireRoot();
  installCleanup(killActive);
  const noTrafgen = spawnSync('trafgen', ['--version'], { stdio: 'ignore' }).error
    ? 'trafgen is not installed (apt-get install netsniff-ng)'
    : null;
  const wanted = args.pairs.split(',').filter((p) => p !== '');
  const pairs = wanted.map((id) => {
    const p = PAIRS.find((q) => q.id === id);
    if (!p) throw new Error(`no pair ${id} (have: ${PAIRS.map((q) => q.id).join(', ')})`);
    return p;
  });
  // This process samples the sink from the sink's CPU, off the sender's.
  spawnSync('taskset', ['-pc', String(SINK_CPU), String(process.pid)], { stdio: 'ignore' });

  const tscHz = hostInfo().tscHz;
  const bins = buildRefs();
  const pcap = await readPcapFile(join(FIXTURES_DIR, 'udp64.pcap'));
  const frame = pcap.records[0]!.data;
  const trafgenConf = join(tempDir(), 'udp64.trafgen');
  writeFileSync(trafgenConf, trafgenConfig(frame));
  const ctx = { bins, secs: args.secs, frames: args.frames, trafgenConf };

  console.log(
    `capbench send (native) against the kernel selftests (udpgso_bench_tx, msg_zerocopy from ` +
      `${TARBALL}, gcc -O2) and trafgen; one veth, one capbench sink on CPU ${SINK_CPU}, senders on CPU ${SENDER_CPU}`,
  );
  console.log(
    `${args.rounds} interleaved rounds after a warm-up; ${args.secs} s a run (trafgen's pair: ` +
      `${args.frames} frames of ${frame.length} bytes, udp64); TSC ${(tscHz / 1e6).toFixed(0)} MHz`,
  );
  console.log(`load average at start: ${loadAverage()}`);

  const tb = await createTestbed();
  const results: PairResult[] = [];
  try {
    await prepareSendTestbed(tb);
    for (const pair of pairs) {
      const res: PairResult = {
        pair,
        ref: [],
        capbench: [],
        paired: [],
        pairedCpu: [],
        problem: pair.kind === 'frames' ? noTrafgen : null,
      };
      results.push(res);
      if (res.problem) continue;
      try {
        await runSide('ref', pair, tb, ctx, frame);
        await runSide('capbench', pair, tb, ctx, frame);
      } catch (err) {
        res.problem = err instanceof Error ? err.message : String(err);
        continue;
      }
      for (let round = 0; round < args.rounds && !res.problem; round++) {
        const order: Side[] = round % 2 === 0 ? ['ref', 'capbench'] : ['capbench', 'ref'];
        const got: Partial<Record<Side, Run>> = {};
        try {
          for (const side of order) got[side] = await runSide(side, pair, tb, ctx, frame);
        } catch (err) {
          res.problem = err instanceof Error ? err.message : String(err);
          break;
        }
        const ref = got.ref!;
        const cb = got.capbench!;
        res.ref.push(ref);
        res.capbench.push(cb);
        res.paired.push(headline(pair, cb) / headline(pair, ref));
        res.pairedCpu.push(perCpuSecond(pair, cb) / perCpuSecond(pair, ref));
        const show = (r: Run): string =>
          (pair.kind === 'tcp'
            ? `${fmtMb(r.mbPerSec)} MB/s`
            : `${fmtRate(r.unitsPerSec)}/s ${fmtMb(r.mbPerSec)} MB/s`) +
          (r.sinkDrops > 0 ? ` [sink dropped ${r.sinkDrops}]` : '') +
          (r.zc ? ` [zc ${r.zc}]` : '') +
          (r.note ? ` (${r.note})` : '');
        console.log(
          `  ${pair.id} round ${round + 1}: ref ${show(ref)}; capbench ${show(cb)}; ` +
            `ratio ${ratio(res.paired[res.paired.length - 1]!)}, ` +
            `per CPU-second ${ratio(res.pairedCpu[res.pairedCpu.length - 1]!)}`,
        );
      }
    }
  } finally {
    killActive();
    await destroyTestbed(tb);
  }

  console.log();
  printTable(
    [
      'pair',
      'reference',
      'ref rate mean (min–max)',
      'capbench native',
      'ref MB/s',
      'capbench MB/s',
      'capbench/ref median (min–max)',
      'per CPU-second',
      'goal',
      '',
    ],
    results.map(({ pair, ref, capbench, paired, pairedCpu, problem }) => {
      if (paired.length === 0)
        return [pair.id, pair.refName, `no data: ${problem?.split('\n')[0] ?? 'no rounds'}`];
      const unit = pair.kind === 'tcp' ? 'MB/s' : pair.kind === 'frames' ? 'frames/s' : 'dgrams/s';
      const f = pair.kind === 'tcp' ? fmtMb : fmtRate;
      const s = stats(paired);
      return [
        pair.id,
        pair.refName,
        `${range(
          ref.map((r) => headline(pair, r)),
          f,
        )} ${unit}`,
        range(
          capbench.map((r) => headline(pair, r)),
          f,
        ),
        fmtMb(stats(ref.map((r) => r.mbPerSec)).mean),
        fmtMb(stats(capbench.map((r) => r.mbPerSec)).mean),
        ratioRange(s),
        ratioRange(stats(pairedCpu)),
        pair.goal === null ? 'shape' : `≥ ${pair.goal.toFixed(1)}`,
        pair.goal === null || s.n === 0 ? '' : s.median >= pair.goal ? 'met' : 'not met',
      ];
    }),
  );

  const notes = results.flatMap(({ pair, ref, capbench }) =>
    [...ref, ...capbench].filter((r) => r.note).map((r) => `${pair.id} ${r.side}: ${r.note}`),
  );
  for (const n of [...new Set(notes)]) console.log(`note: ${n}`);
  for (const { pair, problem } of results)
    if (problem) console.log(`note: ${pair.id} stopped: ${problem.trimEnd()}`);

  // ---- shapes ----
  const by = (id: string): PairResult | undefined => results.find((r) => r.pair.id === id);
  const gso = by('udp-gso');
  const plain = by('udp-send');
  const zcShapes = (
    [
      ['tcp-zerocopy', 'tcp-send-copy', `TCP writes of ${TCP_PAYLOAD} B`],
      ['udp-zerocopy', 'udp-send-copy', `UDP datagrams of ${MSS} B`],
    ] as const
  ).filter(([z, c]) => by(z) && by(c));
  console.log();
  if (gso && plain) console.log('Published shapes, for comparison (not targets):');
  else if (zcShapes.length > 0) console.log('Published shape, for comparison (not a target):');
  if (gso && plain) {
    const shape = (side: Side): string => {
      const g = bytesPerCycle(gso[side], tscHz);
      const p = bytesPerCycle(plain[side], tscHz);
      const mb = stats(gso[side].map((r) => r.mbPerSec)).mean;
      const mp = stats(plain[side].map((r) => r.mbPerSec)).mean;
      return `${ratio(g / p)}× bytes per cycle (${g.toFixed(2)} against ${p.toFixed(2)} B/cycle), ${ratio(mb / mp)}× MB/s`;
    };
    console.log(
      `  UDP GSO (1472 × 42) against plain UDP sends (1472), published about ${PUBLISHED_GSO}× the bytes per cycle:`,
    );
    console.log(`    udpgso_bench_tx -S against without: ${shape('ref')}`);
    console.log(`    capbench udp-gso against udp-send:  ${shape('capbench')}`);
  }
  if (zcShapes.length > 0)
    console.log(
      '  MSG_ZEROCOPY, published as "generally only effective at writes over around 10 KB":',
    );
  for (const [zcId, copyId, what] of zcShapes) {
    const z = by(zcId);
    const c = by(copyId);
    if (!z || !c) continue;
    const shape = (side: Side): string => {
      const zb = bytesPerCycle(z[side], tscHz);
      const cb = bytesPerCycle(c[side], tscHz);
      const zm = stats(z[side].map((r) => r.mbPerSec)).mean;
      const cm = stats(c[side].map((r) => r.mbPerSec)).mean;
      const zc = z[side].find((r) => r.zc)?.zc ?? 'no completions reported';
      return `${ratio(zb / cb)}× bytes per cycle, ${ratio(zm / cm)}× MB/s of copying sends (zc: ${zc})`;
    };
    console.log(`    ${what}: msg_zerocopy -z against without: ${shape('ref')}`);
    console.log(
      `    ${' '.repeat(what.length)}  capbench ${zcId} against ${copyId}: ${shape('capbench')}`,
    );
  }
  if (zcShapes.length > 0)
    console.log(
      '    (on veth the receiver is local: the kernel copies every zero-copy skb it delivers to a ' +
        'socket here, and says so in the completion)',
    );

  console.log();
  console.log('Against the goals:');
  for (const { pair, paired, pairedCpu } of results) {
    if (pair.goal === null) continue;
    const s = stats(paired);
    const against = pair.kind === 'frames' ? 'trafgen' : pair.refName.split(' ')[0];
    console.log(
      `  ${pair.id} native ≥ ${pair.goal.toFixed(1)} × ${against}: ` +
        (s.n === 0
          ? 'no data'
          : `${s.median >= pair.goal ? 'met' : 'not met'}, median ${s.median.toFixed(3)} ` +
            `(rounds ${ratio(s.min)}–${ratio(s.max)}; per CPU-second ${ratio(stats(pairedCpu).median)})`),
    );
  }
  console.log(`load average at end: ${loadAverage()}`);
}

runMain(main);
