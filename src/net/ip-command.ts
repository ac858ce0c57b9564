/** Runs iproute2's `ip` (and ethtool, sysctl) and turns failures into one-line SystemErrors. */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { SystemError } from '../shared/errors.js';

const execFileAsync = promisify(execFile);

function describe(cmd: string, args: readonly string[], err: unknown): SystemError {
  const e = err as { code?: unknown; stderr?: unknown };
  if (e.code === 'ENOENT') {
    const pkg = cmd === 'ethtool' ? 'ethtool' : cmd === 'sysctl' ? 'procps' : 'iproute2';
    return new SystemError(`${cmd} not found: install it (apt-get install ${pkg})`);
  }
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim().split('\n')[0] : '';
  return new SystemError(`${cmd} ${args.join(' ')}: ${stderr || String(err)}`);
}

export async function run(cmd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    throw describe(cmd, args, err);
  }
}

/** For the exit path, where nothing asynchronous runs any more. */
export function runSync(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw describe(cmd, args, err);
  }
}

export const ip = (...args: string[]): Promise<string> => run('ip', args);
