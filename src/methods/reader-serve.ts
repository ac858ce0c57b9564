/**
 * What a reader thread of spread sessions does (reader-thread.ts runs it): a worker_threads Worker
 * that pins itself, then serves commands until told to exit: open the method's session for a reader slot (its own socket in
 * the fanout group, or its own queues), read, report, close, and open again for the next window.
 * Both tiers run here: js counts in TypeScript over the memory the kernel shares with the process
 * (a ring or UMEM mapped once, seen by this thread as an external ArrayBuffer, never copied);
 * native calls the addon's C loop, one call per slice.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { CaptureSession } from '../core/method.js';
import { native } from '../native/binding.js';
import {
  CMD,
  CTRL,
  NUM,
  sharedLayout,
  type OpenRequest,
  type ReaderData,
  type ReaderMessage,
} from './reader-protocol.js';
import { METHODS } from './registry.js';
import { SteppedSession } from './stepped-session.js';

const data = workerData as ReaderData;
const { ctrl, num } = sharedLayout(data.shared);

function post(message: ReaderMessage): void {
  data.port.postMessage(message);
}

/**
 * Called with the reader slot's index before a session is opened and before each read. Only tests
 * pass any (reader-pool.ts installReaderScript): to make one reader fail, or its thread end.
 */
export interface ReaderHooks {
  beforeOpen?(index: number): void;
  beforeConsume?(index: number): void;
}

let hooks: ReaderHooks = {};

function report(err: unknown): void {
  const errno = (err as { errno?: unknown }).errno;
  post({
    kind: 'error',
    message: err instanceof Error ? err.message : String(err),
    errno: typeof errno === 'number' ? errno : null,
  });
  Atomics.store(ctrl, CTRL.FAILED, 1);
}

/** The session this thread has open, and its reader slot's index. */
interface Served {
  session: SteppedSession;
  index: number;
}

function open(): Served {
  const request = receiveMessageOnPort(data.port)?.message as OpenRequest | undefined;
  if (!request) throw new Error('OPEN without a session to open');
  const index = request.ctx.reader?.index ?? 0;
  num.fill(0);
  num[NUM.SEEN] = NaN;
  num[NUM.DROPS] = NaN;
  num[NUM.LAST_FRAME_HR_MS] = NaN;
  hooks.beforeOpen?.(index);
  const method = METHODS.get(request.method);
  if (!method) throw new Error(`unknown method ${request.method}`);
  const opened: CaptureSession = method.open(request.ctx);
  const fanoutGroup = opened.fanoutGroup ?? 0;
  if (!(opened instanceof SteppedSession)) {
    opened.close();
    throw new Error(`${request.method} cannot read on a thread of its own`);
  }
  post({ kind: 'ready', fanoutGroup, settleMs: opened.settleMs });
  return { session: opened, index };
}

function publishCounts(session: SteppedSession): void {
  num[NUM.RECEIVED] = session.received;
  num[NUM.IPV4] = session.ipv4;
  num[NUM.TAKES] = session.takes;
}

function publishStats(session: SteppedSession): void {
  const s = session.stats();
  num[NUM.SEEN] = s.seen ?? NaN;
  num[NUM.DROPS] = s.drops ?? NaN;
  num[NUM.CALLS] = s.calls ?? NaN;
  num[NUM.WAKEUPS] = s.wakeups ?? NaN;
}

const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function consume({ session, index }: Served): void {
  const cpu0 = native().threadCpuTime();
  const before = session.received;
  let frames = Infinity;
  if (num[NUM.OWN_TARGET] === 1) {
    const s = session.stats();
    frames = s.seen === null ? Infinity : s.seen - (s.drops ?? 0);
  }
  hooks.beforeConsume?.(index);
  const last = session.consumeSync({
    frames,
    idleMs: num[NUM.IDLE_MS]!,
    stop: () => Atomics.load(ctrl, CTRL.STOP) === 1,
    onFrames: () => publishCounts(session),
  });
  const end = hrMs();
  num[NUM.END_HR_MS] = end;
  if (session.received > before) num[NUM.LAST_FRAME_HR_MS] = end - (performance.now() - last);
  publishCounts(session);
  publishStats(session);
  const cpu1 = native().threadCpuTime();
  num[NUM.CPU] = num[NUM.CPU]! + (cpu1.totalNs - cpu0.totalNs) / 1e9;
  num[NUM.USER] = num[NUM.USER]! + (cpu1.userNs - cpu0.userNs) / 1e9;
  num[NUM.SYS] = num[NUM.SYS]! + (cpu1.sysNs - cpu0.sysNs) / 1e9;
  num[NUM.VOLUNTARY] = num[NUM.VOLUNTARY]! + cpu1.voluntarySwitches - cpu0.voluntarySwitches;
  num[NUM.INVOLUNTARY] =
    num[NUM.INVOLUNTARY]! + cpu1.involuntarySwitches - cpu0.involuntarySwitches;
  num[NUM.MINOR_FAULTS] = num[NUM.MINOR_FAULTS]! + cpu1.minorFaults - cpu0.minorFaults;
}

function ack(seq: number): void {
  Atomics.store(ctrl, CTRL.ACK, seq);
  Atomics.notify(ctrl, CTRL.ACK);
}

/** Runs one command; returns the session open after it. */
function run(cmd: number, served: Served | null): Served | null {
  if (cmd === CMD.OPEN) {
    served?.session.close();
    return open();
  }
  if (cmd === CMD.CLOSE || cmd === CMD.EXIT) {
    served?.session.close();
    return null;
  }
  if (served && cmd === CMD.STATS) publishStats(served.session);
  if (served && cmd === CMD.CONSUME) consume(served);
  return served;
}

function serve(): void {
  let served: Served | null = null;
  let seq = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.SEQ, seq);
    seq = Atomics.load(ctrl, CTRL.SEQ);
    const cmd = Atomics.load(ctrl, CTRL.CMD);
    try {
      served = run(cmd, served);
    } catch (err) {
      report(err);
      // A session that failed to close, or the one an OPEN closed before it failed, is not this
      // thread's any more.
      if (cmd === CMD.OPEN || cmd === CMD.CLOSE || cmd === CMD.EXIT) served = null;
    }
    ack(seq);
    if (cmd === CMD.EXIT) return;
  }
}

/** Pins the thread, then serves commands until told to exit. */
export function serveReader(testHooks: ReaderHooks = {}): void {
  hooks = testHooks;
  // A thread that ends without being told to (process.exit, an uncaught error) says so at once:
  // the Worker's own 'exit' event reaches the session only through its event loop, which may be
  // blocked waiting for this thread.
  process.on('exit', () => {
    Atomics.store(ctrl, CTRL.DEAD, 1);
    Atomics.notify(ctrl, CTRL.ACK);
  });
  try {
    if (data.cpu !== null) native().pinThread(data.cpu);
  } catch (err) {
    report(err);
  }
  ack(0);
  serve();
  data.port.close();
}
