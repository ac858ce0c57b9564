/** What every command gets from main: the interrupt signal and a progress line for terminals. */

export interface CliContext {
  signal: AbortSignal;
  /** Shows a transient status line on a terminal's stderr; nothing when stderr is not a TTY. */
  progress(text: string): void;
}

export function useColor(flag: boolean): boolean {
  return flag && process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}
