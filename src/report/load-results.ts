/**
 * Reads a results file written by `capbench run --json`. Every way it can be wrong ends in one
 * UsageError line naming the file, so `compare` and `report` can exit 2 without a stack trace.
 * The check covers the fields the reporters read, not every field of the schema: enough to turn
 * "TypeError: cannot read properties of undefined" into a sentence.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import { RESULTS_SCHEMA, type Results } from '../core/results.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const numberOrNull = (v: unknown): boolean => v === null || typeof v === 'number';

/** Names the first field a row lacks or has the wrong type, or null when the row is usable. */
function rowProblem(row: unknown): string | null {
  if (!isObject(row)) return 'is not an object';
  for (const field of ['method', 'tier', 'mode'] as const) {
    if (typeof row[field] !== 'string') return `has no ${field}`;
  }
  if (typeof row.available !== 'boolean' || typeof row.ok !== 'boolean') return 'has no available/ok flags';
  if (!numberOrNull(row.pps) || !numberOrNull(row.ppsRme)) return 'has a pps or ppsRme that is not a number';
  if (!Array.isArray(row.ppsSamples)) return 'has no ppsSamples list';
  if (!isObject(row.cyclesPerPacket) || !numberOrNull(row.cyclesPerPacket.thread)) return 'has no cyclesPerPacket.thread';
  if (!Array.isArray(row.trials) || !row.trials.every((t) => isObject(t) && isObject(t.cyclesPerPacket))) {
    return 'has no trials list';
  }
  const point = row.point;
  if (point !== null && point !== undefined) {
    if (!isObject(point) || !numberOrNull(point.frameBytes) || !numberOrNull(point.offeredPps)) return 'has a malformed point';
  }
  return null;
}

/** Validates parsed JSON; `name` is how the file is called in messages. */
export function toResults(data: unknown, name: string): Results {
  if (!isObject(data)) throw new UsageError(`${name}: not a capbench results file (the JSON is not an object)`);
  if (data.schema !== RESULTS_SCHEMA) {
    const found = typeof data.schema === 'string' ? `schema '${data.schema}'` : 'no schema field';
    throw new UsageError(`${name}: not a ${RESULTS_SCHEMA} file (${found})`);
  }
  if (!isObject(data.host) || !isObject(data.config) || !Array.isArray(data.rows)) {
    throw new UsageError(`${name}: ${RESULTS_SCHEMA} file without host, config or rows`);
  }
  for (const [i, row] of data.rows.entries()) {
    const problem = rowProblem(row);
    if (problem !== null) throw new UsageError(`${name}: row ${i + 1} ${problem}`);
  }
  // Older files written before `point` existed: treat as outside a sweep.
  for (const row of data.rows as Record<string, unknown>[]) row.point ??= null;
  return data as unknown as Results;
}

export function parseResults(text: string, name: string): Results {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8 quotes the start of the text in its message, newlines and all: keep it to one line.
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    throw new UsageError(`${name}: not JSON (${why})`);
  }
  return toResults(data, name);
}

export async function loadResults(path: string): Promise<Results> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
  return parseResults(text, path);
}
