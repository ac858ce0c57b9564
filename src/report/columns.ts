/** Text tables' columns, laid out once for every reporter that prints one. */

/** Visible width: chalk's escape codes take no columns. */
export function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

/**
 * A line maker for a table whose first row is its header: columns two spaces apart, each as wide
 * as its widest cell among `rows`, right-aligned where `right(i)` says, trailing blanks trimmed.
 */
export function columnLayout(
  rows: readonly (readonly string[])[],
  right: (column: number) => boolean,
): (cells: readonly string[]) => string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? ''))));
  return (cells) =>
    cells
      .map((s, i) => pad(s, widths[i]!, right(i)))
      .join('  ')
      .trimEnd();
}
