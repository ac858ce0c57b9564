/**
 * Counts that say why a method costs what it does: per packet, what its reading thread(s) asked of
 * the kernel (calls, wake-ups) and what the scheduler did to them (context switches, minor
 * faults). Counts do not drift with the machine's speed; calls and packets per call in drain are
 * set by the method and its batch, which is why compare can gate on them.
 */
import { MIN_PACKETS } from './accounting.js';
import type { CallsKind } from './method.js';
import type { ExplainCounts, TrialResult } from './results.js';

export function explainCounts(
  trials: readonly TrialResult[],
  callsAre: CallsKind | null,
): ExplainCounts | null {
  const counts = trials.map((t) => t.counts ?? null);
  if (counts.length === 0 || counts.some((c) => c === null)) return null;
  const packets = trials.reduce((a, t) => a + t.received, 0);
  if (packets < MIN_PACKETS) return null;
  const sum = (f: (c: NonNullable<TrialResult['counts']>) => number | null): number | null =>
    counts.some((c) => f(c!) === null) ? null : counts.reduce((a, c) => a + f(c!)!, 0);
  const calls = callsAre === null ? null : sum((c) => c.calls);
  const wakeups = callsAre === null ? null : sum((c) => c.wakeups);
  const takes = sum((c) => c.takes);
  return {
    callsAre: calls === null ? null : callsAre,
    callsPerPacket: calls === null ? null : calls / packets,
    packetsPerCall: calls === null || calls === 0 ? null : packets / calls,
    packetsPerWakeup: wakeups === null || wakeups === 0 ? null : packets / wakeups,
    packetsPerBatch: takes === null || takes === 0 ? null : packets / takes,
    voluntarySwitchesPerPacket: sum((c) => c.voluntarySwitches)! / packets,
    involuntarySwitchesPerPacket: sum((c) => c.involuntarySwitches)! / packets,
    minorFaultsPerPacket: sum((c) => c.minorFaults)! / packets,
  };
}
