import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addCrudCommands } from './crud.js';

/** `chutes chutes list|get|delete`. */
export function registerChutesCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('chutes')
    .description('Manage chutes, e.g. list chutes, delete a chute, etc.');
  addCrudCommands(command, ctx, 'chutes');
}
