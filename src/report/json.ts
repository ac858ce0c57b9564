/**
 * Results as JSON, exactly the schema object: `run`'s and `sweep`'s ("capbench.results/3",
 * core/results.ts) and `send`'s ("capbench.send/1", core/send-results.ts).
 */
import type { Results } from '../core/results.js';
import type { SendResults } from '../core/send-results.js';

export function renderJson(results: Results | SendResults): string {
  return JSON.stringify(results, null, 2) + '\n';
}
