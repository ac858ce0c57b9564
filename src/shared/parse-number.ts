/**
 * Numbers from the command line, for the CLI and for the options methods declare: each throws a
 * UsageError whose message is one line naming the flag, what was given and what is allowed.
 */
import { UsageError } from './errors.js';

export function positiveInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a positive whole number, got '${value}'`);
  }
  return Number(value);
}

export function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive number, got '${value}'`);
  }
  return n;
}
