/**
 * Every failure capbench reports is one of these, and exitCodeFor() is the one place that maps
 * them to exit codes: 2 for anything the user can fix by changing the command (bad input, missing
 * privilege, a feature this machine lacks), 1 for a run that went wrong, 128+n for a signal.
 */
export class CapbenchError extends Error {
  override readonly name: string = 'CapbenchError';
}

/** Bad input: unknown method, interface or fixture, a malformed file, an out-of-range number. */
export class UsageError extends CapbenchError {
  override readonly name = 'UsageError';
}

/** Missing root or capabilities. Raised before anything is created. */
export class PermissionError extends CapbenchError {
  override readonly name = 'PermissionError';
}

/** The kernel or a library said no while setting up or running. */
export class SystemError extends CapbenchError {
  override readonly name = 'SystemError';
  constructor(
    message: string,
    readonly errno: number = 0,
  ) {
    super(message);
  }
}

/** SIGINT or SIGTERM arrived; cleanup has run by the time this reaches the top. */
export class InterruptedError extends CapbenchError {
  override readonly name = 'InterruptedError';
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
  }
}

/** The run finished but some row failed its checks (count mismatch, lost frames). */
export class CheckFailedError extends CapbenchError {
  override readonly name = 'CheckFailedError';
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof PermissionError) return 2;
  if (err instanceof InterruptedError) return err.signal === 'SIGINT' ? 130 : 143;
  return 1;
}

/** Wraps an exception thrown by the addon (message "context: strerror", `errno` set). */
export function fromNative(err: unknown, what: string): SystemError {
  if (err instanceof Error) {
    const errno = (err as { errno?: unknown }).errno;
    return new SystemError(`${what}: ${err.message}`, typeof errno === 'number' ? errno : 0);
  }
  return new SystemError(`${what}: ${String(err)}`);
}
