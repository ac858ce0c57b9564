/**
 * Where command output goes besides the table: files written atomically (with one-line errors a
 * user can act on) and the machine formats CI tools read.
 */
import { writeFileAtomic } from '../shared/atomic-write.js';
import { UsageError } from '../shared/errors.js';
import type { Results } from '../core/results.js';
import { renderBmf } from '../report/bmf.js';
import type { Comparison } from '../report/compare.js';
import { ghaCyclesPath, renderGha } from '../report/gha.js';

export type OutputFormat = 'text' | 'gha' | 'bmf';

export function parseFormat(value: string): OutputFormat {
  if (value !== 'text' && value !== 'gha' && value !== 'bmf')
    throw new UsageError(`--format must be text, gha or bmf, got '${value}'`);
  return value;
}

/** writeFileAtomic, with a missing directory or a read-only place said in one line (exit 2). */
export async function writeOutput(path: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'EACCES' || code === 'EROFS'
          ? 'not writable'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new UsageError(`cannot write ${path}: ${why}`);
  }
}

/**
 * Writes Results or a Comparison as github-action-benchmark or Bencher JSON. gha needs a file:
 * pps goes to `out`, cycles/pkt to ghaCyclesPath(out) (bench.json → bench.cycles.json), because
 * that action's bigger/smaller-is-better is per file. bmf goes to `out`, or stdout when null.
 * Returns the paths written. Shared with `capbench run --format`.
 */
export async function writeMachineFormat(
  input: Results | Comparison,
  format: 'gha' | 'bmf',
  out: string | null,
): Promise<string[]> {
  if (format === 'bmf') {
    if (out === null) {
      process.stdout.write(renderBmf(input));
      return [];
    }
    await writeOutput(out, renderBmf(input));
    return [out];
  }
  if (out === null)
    throw new UsageError(
      '--format gha writes two files (pps, and cycles/pkt beside it): give --out FILE',
    );
  const cycles = ghaCyclesPath(out);
  await writeOutput(out, renderGha(input, 'pps'));
  await writeOutput(cycles, renderGha(input, 'cycles'));
  return [out, cycles];
}

/**
 * For run and sweep, where stdout carries the table: only the machine formats, always to a file,
 * checked before the run starts rather than after minutes of measuring.
 */
export function machineFormat(
  value: string | undefined,
  out: string | undefined,
): 'gha' | 'bmf' | null {
  if (value === undefined) return null;
  const f = parseFormat(value);
  if (f === 'text')
    throw new UsageError('--format text is the table on stdout already: use gha or bmf here');
  if (out === undefined)
    throw new UsageError(`--format ${f} needs --out FILE: stdout carries the table`);
  return f;
}
