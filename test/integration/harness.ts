/**
 * Helpers for integration tests: run the real CLI as a child process, and take a snapshot of the
 * machine's namespaces and links so a test can prove that nothing was left behind.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { Results } from '../../src/core/results.js';
import type { SendResults } from '../../src/core/send-results.js';

export const BIN = fileURLToPath(new URL('../../../bin/capbench.js', import.meta.url));

export interface CliResult {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ReturnType<typeof spawn>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], options: { prefix?: string[] } = {}): CliRun {
  const argv = [...(options.prefix ?? []), process.execPath, BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) =>
      resolve({ pid: child.pid ?? -1, code, signal, stdout, stderr }),
    );
  });
  return { child, done };
}

export function cli(args: string[], options: { prefix?: string[] } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Runs `capbench run ... --json FILE` and returns the parsed results with the process result. */
export async function runJson(args: string[]): Promise<{ result: CliResult; results: Results }> {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-test-'));
  try {
    const file = join(dir, 'out.json');
    const result = await cli(['run', ...args, '--json', file, '--no-color']);
    let results: Results;
    try {
      results = JSON.parse(readFileSync(file, 'utf8')) as Results;
    } catch {
      throw new Error(
        `no results written (exit ${result.code}): ${result.stderr}\n${result.stdout}`,
      );
    }
    return { result, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `capbench send ... --json FILE` and returns the parsed results with the process result. */
export async function sendJson(
  args: string[],
): Promise<{ result: CliResult; results: SendResults }> {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-send-'));
  try {
    const file = join(dir, 'out.json');
    const result = await cli(['send', ...args, '--json', file]);
    try {
      return { result, results: JSON.parse(readFileSync(file, 'utf8')) as SendResults };
    } catch {
      throw new Error(
        `no results written (exit ${result.code}): ${result.stderr}\n${result.stdout}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bad input: one line on stderr matching `message`, exit 2, nothing on stdout, nothing created. */
export async function assertRefused(
  args: string[],
  message: RegExp,
  prefix?: string[],
): Promise<void> {
  const r = await cli(args, prefix ? { prefix } : {});
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not: ${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.equal(r.stdout, '');
  assert.deepEqual(leftoversOf(r.pid), []);
}

/** Network namespaces and links that exist right now, by name. */
export function machineState(): { netns: string[]; links: string[] } {
  // /run/netns appears with the first `ip netns add` on a machine: on a fresh one it may not exist.
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [];
  const links = (
    JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
      ifname: string;
    }[]
  )
    .map((l) => l.ifname)
    .sort();
  return { netns, links };
}

/**
 * What a capbench process with this pid left behind: its test bed names carry the pid (base 36),
 * so other runs on the same machine do not disturb the check.
 */
export function leftoversOf(pid: number): string[] {
  const tag = new RegExp(`^(capbench-|cb)${pid.toString(36)}[0-9a-z]{3}([cg]t?)?$`);
  return capbenchLeftovers().filter((n) => tag.test(n));
}

/** capbench's own objects: what must be gone after any run. */
export function capbenchLeftovers(): string[] {
  const s = machineState();
  return [
    ...s.netns.filter((n) => n.startsWith('capbench-')),
    ...s.links.filter((l) => /^cb[0-9a-z]+[cg]t?$/.test(l)),
  ];
}
