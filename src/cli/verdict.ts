/** A run or sweep whose rows failed their checks exits 1, after its table has been printed. */
import { CheckFailedError } from '../shared/errors.js';
import type { Results } from '../core/results.js';

export function throwIfRowsFailed(results: Results): void {
  const failed = results.rows.filter((r) => r.available && !r.ok);
  if (failed.length > 0) {
    throw new CheckFailedError(
      `${failed.length} row${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => `${r.method}/${r.tier}`).join(', ')}`,
    );
  }
}
