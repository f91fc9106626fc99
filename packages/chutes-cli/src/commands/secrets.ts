import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { addCrudCommands } from './crud.js';
import { addApiOptions } from './shared.js';

interface CreateOptions extends ApiOptions {
  purpose: string;
  key: string;
  value?: string;
}

/** `chutes secrets create|list|get|delete`. */
export function registerSecretsCommand(program: Command, ctx: CliContext): void {
  const command = program.command('secrets').description('Manage secrets');
  const create = command
    .command('create')
    .description('create a secret for a chute (delivered to its instances as an environment variable)')
    .requiredOption('--purpose <chute>', 'chute name or UUID the secret belongs to')
    .requiredOption('--key <key>', 'secret name (environment variable)')
    .option('--value <value>', 'secret value (asked for, hidden, when omitted)');
  addApiOptions(create).action(async (options: CreateOptions) => {
    const { client } = await ctx.client(options);
    const value = options.value ?? (await ctx.io.prompt('Secret value: ', { hidden: true }));
    const data = await client.createSecret({ purpose: options.purpose, key: options.key, value });
    ctx.result(
      options,
      data,
      `Created secret ${String(data['secret_id'])} (${options.key}) for ${options.purpose}`,
    );
  });
  addCrudCommands(command, ctx, 'secrets');
}
