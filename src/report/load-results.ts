/**
 * Reads a results file written by `capbench run --json`. Every way it can be wrong ends in one
 * UsageError line naming the file, so `compare` and `report` can exit 2 without a stack trace.
 * The check covers the fields the reporters read, not every field of the schema: enough to turn
 * "TypeError: cannot read properties of undefined" into a sentence.
 *
 * A /2 file's config is converted to /3's (its methods' options into config.methodOptions), and
 * a capbench.results/1 file to the current shape on load, so that a new run can be compared
 * against a baseline recorded before /2: /1 measured only the reader (`thread`, now
 * `read`) and the machine-wide cross-check (`system`, now `systemBusy`), so its deliver and total
 * are null and compare falls back to read.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../shared/errors.js';
import { RESULTS_SCHEMA, type CyclesPerPacket, type Results } from '../core/results.js';

const V1_SCHEMA = 'capbench.results/1';
const V2_SCHEMA = 'capbench.results/2';

/** deliverNote of every figure converted from a /1 file. */
export const V1_DELIVER_NOTE = `read from a ${V1_SCHEMA} file, which measured no deliver`;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const numberOrNull = (v: unknown): boolean => v === null || typeof v === 'number';

/** Names the first field a row lacks or has the wrong type, or null when the row is usable. */
function rowProblem(row: unknown, v1: boolean): string | null {
  if (!isObject(row)) return 'is not an object';
  for (const field of ['method', 'tier', 'mode'] as const) {
    if (typeof row[field] !== 'string') return `has no ${field}`;
  }
  if (typeof row.available !== 'boolean' || typeof row.ok !== 'boolean')
    return 'has no available/ok flags';
  if (!numberOrNull(row.pps) || !numberOrNull(row.ppsRme))
    return 'has a pps or ppsRme that is not a number';
  if (!Array.isArray(row.ppsSamples)) return 'has no ppsSamples list';
  const cycles = row.cyclesPerPacket;
  if (!isObject(cycles)) return 'has no cyclesPerPacket';
  for (const field of v1 ? ['thread'] : ['deliver', 'read', 'total']) {
    if (!numberOrNull(cycles[field])) return `has no cyclesPerPacket.${field}`;
  }
  if (
    !Array.isArray(row.trials) ||
    !row.trials.every((t) => isObject(t) && isObject(t.cyclesPerPacket))
  ) {
    return 'has no trials list';
  }
  const point = row.point;
  if (point !== null && point !== undefined) {
    if (!isObject(point) || !numberOrNull(point.frameBytes) || !numberOrNull(point.offeredPps))
      return 'has a malformed point';
  }
  return null;
}

/** A /1 cyclesPerPacket ({thread, user, sys, system, source}) in the /2 shape. */
function cyclesFromV1(c: Json): CyclesPerPacket {
  return {
    deliver: null,
    read: c.thread as number | null,
    total: null,
    totalRme: null,
    deliverSource: null,
    deliverNote: V1_DELIVER_NOTE,
    user: (c.user ?? null) as number | null,
    sys: (c.sys ?? null) as number | null,
    systemBusy: (c.system ?? null) as number | null,
    source: c.source as CyclesPerPacket['source'],
  };
}

function rowFromV1(row: Json): Json {
  const trials = (row.trials as Json[]).map((t) => ({
    ...t,
    delivery: null,
    ipv4Expected: null,
    cyclesPerPacket: cyclesFromV1(t.cyclesPerPacket as Json),
  }));
  return { ...row, cyclesPerPacket: cyclesFromV1(row.cyclesPerPacket as Json), trials };
}

/** /1 and /2 kept the methods' options in config fields of their own: /3's bag, by option name. */
function optionsBeforeV3(config: Json): Json {
  return {
    batch: config.batch ?? null,
    'ring-mb': config.ringMb ?? null,
    queues: config.queues ?? null,
    zerocopy: config.zeroCopy ?? null,
  };
}

/** Validates parsed JSON; `name` is how the file is called in messages. */
export function toResults(data: unknown, name: string): Results {
  if (!isObject(data))
    throw new UsageError(`${name}: not a capbench results file (the JSON is not an object)`);
  const v1 = data.schema === V1_SCHEMA;
  if (data.schema !== RESULTS_SCHEMA && data.schema !== V2_SCHEMA && !v1) {
    const found = typeof data.schema === 'string' ? `schema '${data.schema}'` : 'no schema field';
    throw new UsageError(`${name}: not a ${RESULTS_SCHEMA} (or /2, /1) file (${found})`);
  }
  if (!isObject(data.host) || !isObject(data.config) || !Array.isArray(data.rows)) {
    throw new UsageError(`${name}: ${String(data.schema)} file without host, config or rows`);
  }
  for (const [i, row] of data.rows.entries()) {
    const problem = rowProblem(row, v1);
    if (problem !== null) throw new UsageError(`${name}: row ${i + 1} ${problem}`);
  }
  // Older files written before `point` existed: treat as outside a sweep.
  const rows = (data.rows as Json[]).map((row) => ({
    ...(v1 ? rowFromV1(row) : row),
    point: row.point ?? null,
  }));
  // Files written before two-port mode: no generator port; before --deliver and the default count's
  // cut: deliver measured, the count as given; before /3: the methods' options in fields of their own.
  const config = {
    ...data.config,
    genIface: data.config.genIface ?? null,
    deliver: data.config.deliver ?? true,
    countGiven: data.config.countGiven ?? true,
    precision: data.config.precision ?? null,
    maxTimeSec: data.config.maxTimeSec ?? null,
    methodOptions: data.config.methodOptions ?? optionsBeforeV3(data.config),
  };
  return { ...data, schema: RESULTS_SCHEMA, config, rows } as unknown as Results;
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
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
  return parseResults(text, path);
}
