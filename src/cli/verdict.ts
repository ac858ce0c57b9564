/** A run, sweep or send whose rows failed their checks exits 1, after its table has been printed. */
import { CheckFailedError } from '../shared/errors.js';

/** What the verdict reads of a row: `run`'s and `send`'s rows alike. */
interface CheckedRow {
  method: string;
  tier: string;
  available: boolean;
  ok: boolean;
}

export function throwIfRowsFailed(results: { rows: readonly CheckedRow[] }): void {
  const failed = results.rows.filter((r) => r.available && !r.ok);
  if (failed.length > 0) {
    throw new CheckFailedError(
      `${failed.length} row${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => `${r.method}/${r.tier}`).join(', ')}`,
    );
  }
}
