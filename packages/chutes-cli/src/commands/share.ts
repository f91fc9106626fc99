import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { addApiOptions, addFlag } from './shared.js';

/** `chutes share`: shares (or with `--remove` unshares) a chute with another user. */
export function registerShareCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('share')
    .description('Share a chute with another user')
    .requiredOption('--chute-id <chute>', 'chute name or UUID')
    .requiredOption('--user-id <user>', 'username or user UUID');
  addFlag(command, 'remove', 'unshare instead of share');
  addApiOptions(command).action(
    async (options: ApiOptions & { chuteId: string; userId: string; remove?: boolean }) => {
      const { client } = await ctx.client(options);
      const data = await client.share(options.chuteId, options.userId, options.remove === true);
      ctx.result(options, data, String(data['status'] ?? 'ok'));
    },
  );
}
