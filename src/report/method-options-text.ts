/** The methods' own options of a run (RunConfig.methodOptions), as reports print them. */
import type { RunConfig } from '../core/config.js';

/** "batch 64, ring-mb —, queues 1, zerocopy no": each as the run had it (— where the method chose). */
export function methodOptionsText(config: Pick<RunConfig, 'methodOptions'>): string {
  const entries = Object.entries(config.methodOptions);
  if (entries.length === 0) return 'none';
  return entries
    .map(
      ([name, v]) =>
        `${name} ${v === null ? '—' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`,
    )
    .join(', ');
}
