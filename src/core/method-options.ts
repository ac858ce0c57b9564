/**
 * Options that belong to a capture method (--batch, --ring-mb, --queues, --zerocopy): each is
 * declared once, in the method's own file, with its flag, parser, default and help. The command
 * line offers every declared option, a run carries their values in one bag
 * (RunConfig.methodOptions, keyed by the option's name), and a method reads its own from that
 * bag with optionValue(). Adding an option touches the method's file only.
 */

/** What an option's value can be; null means "let the method choose" where an option allows it. */
export type OptionValue = number | boolean | string | null;

export interface MethodOption<T extends OptionValue = OptionValue> {
  /** The flag without its dashes (`ring-mb`): the key in RunConfig.methodOptions and in JSON. */
  readonly name: string;
  /** What the flag takes, as --help shows it (`<mib>`); absent for a switch (true when given). */
  readonly arg?: string;
  /** One line for --help, starting with the methods that read it (`packet-mmap: ...`). */
  readonly help: string;
  readonly default: T;
  /** From the command-line string; throws a UsageError naming the flag. Absent for a switch. */
  readonly parse?: (value: string) => T;
}

/** The values a run was given, by option name; an option not in it has its default. */
export type MethodOptionValues = Readonly<Record<string, OptionValue>>;

export function optionValue<T extends OptionValue>(
  values: MethodOptionValues,
  option: MethodOption<T>,
): T {
  const v = values[option.name];
  return v === undefined ? option.default : (v as T);
}

/** The flag as commander takes it: `--ring-mb <mib>`, `--zerocopy`. */
export function optionFlag(option: MethodOption): string {
  return option.arg === undefined ? `--${option.name}` : `--${option.name} ${option.arg}`;
}

/** commander's key for a flag: `ring-mb` → `ringMb`. */
export function optionKey(option: Pick<MethodOption, 'name'>): string {
  return option.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
