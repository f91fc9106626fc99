import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { addApiOptions } from './shared.js';

/** `chutes report`: reports an invocation. */
export function registerReportCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('report')
    .description('Report an invocation')
    .requiredOption('--invocation-id <id>', 'the invocation to report')
    .option('--reason <text>', 'why (asked for when omitted)');
  addApiOptions(command).action(async (options: ApiOptions & { invocationId: string; reason?: string }) => {
    const { client } = await ctx.client(options);
    const reason =
      options.reason ?? (await ctx.io.prompt('Please describe the issue with the invocation: ')).trim();
    if (!reason) throw new ChutesCliError('ERR_VALIDATION', 'a reason is required');
    const data = await client.report(options.invocationId, reason);
    ctx.result(
      options,
      data,
      `Reported invocation ${options.invocationId}: ${String(data['status'] ?? 'ok')}`,
    );
  });
}
