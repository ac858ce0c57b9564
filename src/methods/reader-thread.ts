/**
 * One reader thread of a spread session: a worker_threads Worker that opens the method's session
 * for its slot (its own socket in the fanout group, or its own queues), pins itself, and then
 * serves the session's commands until told to close. Both tiers run here: js counts in
 * TypeScript over the memory the kernel shares with the process (a ring or UMEM mapped once, seen
 * by this thread as an external ArrayBuffer, never copied); native calls the addon's C loop, one
 * call per slice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CaptureSession } from '../core/method.js';
import { native } from '../native/binding.js';
import { CMD, CTRL, FAULT_ENV, NUM, sharedLayout, type ReaderData, type ReaderMessage } from './reader-protocol.js';
import { METHODS } from './registry.js';
import { SteppedSession } from './stepped-session.js';

const data = workerData as ReaderData;
const { ctrl, num } = sharedLayout(data.shared);
const index = data.ctx.reader?.index ?? 0;

function post(message: ReaderMessage): void {
  data.port.postMessage(message);
}

function fault(at: 'open' | 'consume'): void {
  const wanted = process.env[FAULT_ENV];
  if (wanted === `crash:${index}` && at === 'consume') process.exit(70);
  if (wanted === `${at}:${index}`) throw new Error(`injected ${at} failure (${FAULT_ENV})`);
}

function report(err: unknown): void {
  const errno = (err as { errno?: unknown }).errno;
  post({ kind: 'error', message: err instanceof Error ? err.message : String(err), errno: typeof errno === 'number' ? errno : null });
  Atomics.store(ctrl, CTRL.FAILED, 1);
}

function open(): SteppedSession | null {
  try {
    if (data.cpu !== null) native().pinThread(data.cpu);
    fault('open');
    const method = METHODS.get(data.method);
    if (!method) throw new Error(`unknown method ${data.method}`);
    const session = method.open({ ...data.ctx, latency: null });
    if (!(session instanceof SteppedSession)) {
      session.close();
      throw new Error(`${data.method} cannot read on a thread of its own`);
    }
    const opened: CaptureSession = session;
    post({ kind: 'ready', fanoutGroup: opened.fanoutGroup ?? 0, settleMs: session.settleMs });
    return session;
  } catch (err) {
    report(err);
    return null;
  }
}

function publishCounts(session: SteppedSession): void {
  num[NUM.RECEIVED] = session.received;
  num[NUM.IPV4] = session.ipv4;
}

function publishStats(session: SteppedSession): void {
  const s = session.stats();
  num[NUM.SEEN] = s.seen ?? NaN;
  num[NUM.DROPS] = s.drops ?? NaN;
}

const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function consume(session: SteppedSession): void {
  const cpu0 = native().threadCpuTime();
  const before = session.received;
  let frames = Infinity;
  if (num[NUM.OWN_TARGET] === 1) {
    const s = session.stats();
    frames = s.seen === null ? Infinity : s.seen - (s.drops ?? 0);
  }
  fault('consume');
  const last = session.consumeSync({
    frames,
    idleMs: num[NUM.IDLE_MS]!,
    stop: () => Atomics.load(ctrl, CTRL.STOP) === 1,
    onFrames: () => publishCounts(session),
  });
  if (session.received > before) num[NUM.LAST_FRAME_HR_MS] = hrMs() - (performance.now() - last);
  publishCounts(session);
  publishStats(session);
  const cpu1 = native().threadCpuTime();
  num[NUM.CPU] = num[NUM.CPU]! + (cpu1.totalNs - cpu0.totalNs) / 1e9;
  num[NUM.USER] = num[NUM.USER]! + (cpu1.userNs - cpu0.userNs) / 1e9;
  num[NUM.SYS] = num[NUM.SYS]! + (cpu1.sysNs - cpu0.sysNs) / 1e9;
}

function ack(seq: number): void {
  Atomics.store(ctrl, CTRL.ACK, seq);
  Atomics.notify(ctrl, CTRL.ACK);
}

function serve(session: SteppedSession | null): void {
  let seq = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.SEQ, seq);
    seq = Atomics.load(ctrl, CTRL.SEQ);
    const cmd = Atomics.load(ctrl, CTRL.CMD);
    try {
      if (cmd === CMD.CLOSE) {
        session?.close();
        session = null;
      } else if (session && cmd === CMD.STATS) {
        publishStats(session);
      } else if (session && cmd === CMD.CONSUME) {
        consume(session);
      }
    } catch (err) {
      report(err);
    }
    ack(seq);
    if (cmd === CMD.CLOSE) return;
  }
}

const session = open();
ack(0);
serve(session);
data.port.close();
parentPort?.close();
