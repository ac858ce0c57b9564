/** The transient status line `run` and `sweep` show on a terminal while windows run. */
import type { Progress } from '../core/rows.js';
import { si } from '../report/format-number.js';

export function progressLine(verb: string, p: Progress): string {
  const which =
    p.trial === 0
      ? 'warm-up'
      : p.trials === null
        ? `round ${p.trial}`
        : `trial ${p.trial}/${p.trials}`;
  return `${verb} ${p.method}/${p.tier}: ${which}${p.lastPps === null ? '' : `, last ${si(p.lastPps)} pps`}…`;
}
