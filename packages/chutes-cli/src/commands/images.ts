import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addCrudCommands } from './crud.js';

/** `chutes images list|get|delete`. */
export function registerImagesCommand(program: Command, ctx: CliContext): void {
  const command = program.command('images').description('Manage images');
  addCrudCommands(command, ctx, 'images');
}
