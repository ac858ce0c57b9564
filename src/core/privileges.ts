/**
 * Checked before anything is created: capbench needs to make namespaces and veths (CAP_NET_ADMIN,
 * CAP_SYS_ADMIN for `ip netns` and setns), and open packet sockets (CAP_NET_RAW).
 */
import { readFileSync } from 'node:fs';
import { PermissionError } from '../shared/errors.js';

const CAPS = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21 } as const;
export type CapName = keyof typeof CAPS;

export function effectiveCapabilities(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

export function missingCapabilities(
  needed: readonly CapName[],
  eff = effectiveCapabilities(),
): CapName[] {
  return needed.filter((c) => (eff & (1n << BigInt(CAPS[c]))) === 0n);
}

export function requireCapabilities(
  needed: readonly CapName[],
  what: string,
  eff = effectiveCapabilities(),
): void {
  const missing = missingCapabilities(needed, eff);
  if (missing.length > 0) {
    throw new PermissionError(
      `${what} needs ${missing.join(' and ')}: run as root (sudo capbench ...) or grant the capabilities`,
    );
  }
}
