/** Results as JSON, exactly the schema object ("capbench.results/3", core/results.ts). */
import type { Results } from '../core/results.js';

export function renderJson(results: Results): string {
  return JSON.stringify(results, null, 2) + '\n';
}
