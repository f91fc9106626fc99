import { type Command, InvalidArgumentError } from 'commander';

/** Adds `--config-path`, optionally `--api-key`, `--json` and `--debug/--no-debug`. */
export function addApiOptions(
  command: Command,
  options: { apiKey?: boolean; configPath?: boolean } = {},
): Command {
  if (options.configPath !== false) {
    command.option('--config-path <path>', 'custom path to the chutes config (credentials, API URL, etc.)');
  }
  if (options.apiKey !== false) {
    command.option(
      '--api-key <key>',
      'authenticate with an API key (cpk_...) instead of the hotkey; also CHUTES_API_KEY',
    );
  }
  command.option('--json', 'machine-readable JSON on stdout');
  addFlag(command, 'debug', 'enable debug logging');
  return command;
}

/** Adds a typer-style boolean pair `--name/--no-name` (default false). */
export function addFlag(command: Command, name: string, description: string): Command {
  return command.option(`--${name}`, description).option(`--no-${name}`, `do not ${description}`);
}

/** Parses a non-negative integer option (anything else is a usage error, exit 2). */
export function parseInteger(name: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
    return Number.parseInt(value, 10);
  };
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Renders rows as a plain aligned table. */
export function formatTable(
  columns: Array<[string, (row: Record<string, unknown>) => unknown]>,
  rows: Record<string, unknown>[],
): string {
  const cells = rows.map((row) =>
    columns.map(([, get]) => {
      const value = get(row);
      return value === null || value === undefined
        ? '-'
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    }),
  );
  const widths = columns.map(([title], index) =>
    Math.max(title.length, ...cells.map((row) => row[index]!.length)),
  );
  const line = (values: string[]): string =>
    values
      .map((value, index) => value.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([title]) => title)), ...cells.map(line)].join('\n');
}
