/**
 * What the ring-goal benchmarks (native-vs-ref, js-vs-native, live-drops) share: their options,
 * running `capbench run` as a child with --json, asking `capbench list` what can run here,
 * statistics, a plain table, and cleanup of children, temporary files and test beds on exit and
 * on Ctrl-C. A benchmark prints ratios; it is not a test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from '../src/core/results.js';
import { destroyAllSync } from '../src/net/testbed.js';

/** This file runs as dist/bench/ring-common.js; the repo root is two levels up. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CAPBENCH = join(REPO, 'bin', 'capbench.js');

/** The CPUs capbench uses by default on two CPUs: the generator on 0, the capturing thread on 1. */
export const GEN_CPU = 0;
export const CAP_CPU = 1;

// ---- options ------------------------------------------------------------------------------------

export type Args = Record<string, number | string>;

/** `--key value` pairs over defaults; a default's type (number or string) is the value's type. */
export function parseArgs<T extends Args>(argv: string[], defaults: T, usage: string): T {
  const args: Args = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') ?? '';
    const raw = argv[i + 1];
    if (!(key in defaults) || raw === undefined)
      throw new Error(`usage: ${usage} (at "${argv[i] ?? ''}")`);
    if (typeof defaults[key] === 'number') {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`--${key} wants a positive integer, got "${raw}"`);
      args[key] = value;
    } else {
      args[key] = raw;
    }
  }
  return args as T;
}

/**
 * Drain frames per method unless --count says otherwise: as many as the method's buffer holds
 * comfortably, so that a window lasts long enough (tens of ms for the rings, which read 100+ M
 * frames/s) that one preemption or the JS call around the native loop does not decide it.
 * Sockets hold at most about 1 M small frames (1 GiB SO_RCVBUFFORCE); af-xdp needs 2 KiB of
 * pinned UMEM per frame and capbench caps its UMEM at 1 GiB (about 523 k frames).
 *
 * dpdk is keyed by PMD, as bench rows name it ("dpdk (af_packet)"). net_af_packet holds a drain
 * in its TPACKET_V2 ring of 2 KiB frames: 200 k frames are 400 MiB of ring in the reference and
 * at least as much in capbench (plus its mbufs, 4 KiB each under --no-huge if it sizes a pool for
 * --count), and still a window of about 10 ms at the 18 Mpps it reads here. net_af_xdp (DPDK
 * 22.11) posts 2048 buffers to its fill ring once and then one per frame it hands over, so no
 * more than 2048 frames ever wait for a reader: beyond that the kernel drops (imissed), whatever
 * the pool, UMEM or rx ring. Its drain is therefore 2048 frames, a window of about 0.2 ms.
 */
const DRAIN_COUNT: Record<string, number> = {
  socket: 1_000_000,
  'socket-mmsg': 1_000_000,
  'io-uring': 1_000_000,
  'pcap-native': 4_000_000,
  'packet-mmap': 4_000_000,
  'af-xdp': 500_000,
  'dpdk (af_packet)': 200_000,
  'dpdk (af_xdp)': 2048,
};

/** --count for a method (or a bench row such as "dpdk (af_xdp)"): a number, or "auto" for DRAIN_COUNT. */
export function drainCount(method: string, arg: string): number {
  if (arg === 'auto') return DRAIN_COUNT[method] ?? 1_000_000;
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--count wants a positive integer or auto, got "${arg}"`);
  return n;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, AF_PACKET, XDP)');
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

// ---- cleanup ------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** A child to stop on exit: capbench gets SIGTERM (it then removes its own test bed), others SIGKILL. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-ring-'));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory from tempDir() before exit. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

const onExit: Array<() => void> = [];
let cleaned = false;
/** A signal came: what fails from here on is the interruption, not worth a message. */
let stopping = false;

function cleanupSync(): void {
  if (cleaned) return;
  cleaned = true;
  for (const f of onExit) {
    try {
      f();
    } catch {
      /* on the way out */
    }
  }
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  destroyAllSync();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Cleanup on exit, and on SIGINT/SIGTERM: running capbench children are asked to stop and given
 * a few seconds to remove their test beds; then ours go, with the children and temporary files.
 * `extra` runs first (e.g. stopping a generator thread).
 */
export function installCleanup(extra?: () => void): void {
  if (extra) onExit.push(extra);
  process.on('exit', cleanupSync);
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    if (stopping) return;
    stopping = true;
    const capbenches = [...children].filter(
      (c) => c.spawnargs.includes(CAPBENCH) && c.exitCode === null,
    );
    for (const c of capbenches) c.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    const finish = (): void => {
      if (
        capbenches.some((c) => c.exitCode === null && c.signalCode === null) &&
        Date.now() < deadline
      ) {
        setTimeout(finish, 50);
        return;
      }
      cleanupSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    finish();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

// ---- capbench as a child ------------------------------------------------------------------------

export interface Availability {
  available: boolean;
  reason: string;
}

/** What `capbench list` says about each method on this checkout and machine. */
export function listMethods(): Map<string, Availability> {
  const r = spawnSync(process.execPath, [CAPBENCH, 'list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`capbench list failed:\n${r.stdout}${r.stderr}`);
  const out = new Map<string, Availability>();
  let last: Availability | null = null;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)\s+\S+\s+(available|unavailable)\b/.exec(line);
    if (m) {
      last = { available: m[2] === 'available', reason: '' };
      out.set(m[1]!, last);
      continue;
    }
    const why = /^\s+why:\s*(.*)$/.exec(line);
    if (why && last) last.reason = why[1]!;
  }
  return out;
}

export interface CapbenchRun {
  rows: Row[];
  /** The TSC rate capbench computed its cycle figures at. */
  tscHz: number;
  /** capbench's exit status: 0 all rows passed, 1 a row failed its checks. */
  status: number;
}

/**
 * `capbench run ARGS --json FILE` with the default CPUs spelled out; its table is kept only to
 * show when it fails outright (no JSON).
 */
export async function runCapbench(args: string[]): Promise<CapbenchRun> {
  const dir = tempDir();
  const json = join(dir, 'results.json');
  const child = track(
    spawn(
      process.execPath,
      [
        CAPBENCH,
        'run',
        ...args,
        '--gen-cpu',
        String(GEN_CPU),
        '--cap-cpu',
        String(CAP_CPU),
        '--json',
        json,
        '--no-color',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const status = await new Promise<number>((resolve) =>
    child.on('close', (code) => resolve(code ?? 1)),
  );
  try {
    if (status !== 0 && status !== 1)
      throw new Error(`capbench run ${args.join(' ')} exited with ${status}:\n${output}`);
    const results = JSON.parse(readFileSync(json, 'utf8')) as {
      rows: Row[];
      host: { tscHz: number };
    };
    return { rows: results.rows, tscHz: results.host.tscHz, status };
  } finally {
    removeTempDir(dir);
  }
}

/** Why a row did not give a usable measurement, or null when it did. */
export function rowProblem(row: Row | undefined): string | null {
  if (!row) return 'no row';
  if (!row.available) return `unavailable: ${row.reason ?? ''}`;
  if (!row.ok) return `FAIL: ${row.reason ?? 'checks did not hold'}`;
  return null;
}

// ---- statistics and output ----------------------------------------------------------------------

export interface Stats {
  mean: number;
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(xs: readonly number[]): Stats {
  const ok = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (ok.length === 0) return { mean: NaN, median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = ok.length >> 1;
  const median = ok.length % 2 === 1 ? ok[mid]! : (ok[mid - 1]! + ok[mid]!) / 2;
  return {
    mean: ok.reduce((a, b) => a + b, 0) / ok.length,
    median,
    min: ok[0]!,
    max: ok[ok.length - 1]!,
    n: ok.length,
  };
}

/** pps as k or M with three significant digits. */
export function pps(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 1e6 ? `${(x / 1e6).toPrecision(3)} M` : `${(x / 1e3).toPrecision(3)} k`;
}

export function ppsRange(s: Stats): string {
  return s.n === 0 ? '-' : `${pps(s.mean)} (${pps(s.min)}–${pps(s.max)})`;
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '-';
}

/** "median (min–max)" of ratios. */
export function ratioRange(s: Stats): string {
  return s.n === 0 ? '-' : `${ratio(s.median)} (${ratio(s.min)}–${ratio(s.max)})`;
}

/**
 * Left-aligned first column, right-aligned numbers, two spaces between columns. In a row with
 * fewer cells than the head, the last cell is free text (e.g. "unavailable (why)") that does not
 * widen its column.
 */
export function printTable(head: string[], body: string[][]): void {
  const widths = head.map((h, i) =>
    Math.max(
      h.length,
      ...body.map((b) => (b.length < head.length && i === b.length - 1 ? 0 : (b[i] ?? '').length)),
    ),
  );
  const cell = (c: string, i: number, n: number): string =>
    n < head.length && i === n - 1
      ? c
      : i === 0
        ? c.padEnd(widths[i] ?? 0)
        : c.padStart(widths[i] ?? 0);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => cell(c, i, cells.length))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

/** Runs main, prints an error as one line, and always cleans up. */
export function runMain(main: () => Promise<void>): void {
  main()
    .catch((err: unknown) => {
      if (stopping) return;
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    })
    .finally(cleanupSync);
}
