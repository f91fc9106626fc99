import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import type { ApiKeyScope } from '../sdk/client.js';
import { addCrudCommands } from './crud.js';
import { addApiOptions, addFlag, collect } from './shared.js';

const ACTIONS = ['read', 'write', 'delete', 'invoke'] as const;

/** Options of {@link buildKeyScopes}. */
export interface KeyScopeOptions {
  /** `--admin`. */
  admin?: boolean | undefined;
  /** `--images`. */
  images?: boolean | undefined;
  /** `--chutes`. */
  chutes?: boolean | undefined;
  /** `--image-ids` (repeatable). */
  imageIds?: string[] | undefined;
  /** `--chute-ids` (repeatable). */
  chuteIds?: string[] | undefined;
  /** `--action` (case-insensitive). */
  action?: string | undefined;
  /** `--json-input '{"scopes": [...]}'`. */
  jsonInput?: string | undefined;
}

/**
 * The `POST /api_keys/` body for `keys create`, with the D3 fixes: `--images`/`--chutes` without ids add exactly
 * one scope of that type (with `action` only when given); with ids, one scope per id; `--action invoke` alone
 * adds one chutes scope; never a duplicate, never a crash.
 * @throws ChutesCliError `ERR_VALIDATION` for an unknown action or malformed `--json-input`.
 */
export function buildKeyScopes(
  name: string,
  options: KeyScopeOptions,
): { name: string; admin: boolean; scopes?: ApiKeyScope[] } {
  const admin = options.admin === true;
  const body: { name: string; admin: boolean; scopes?: ApiKeyScope[] } = { name, admin };
  if (admin) return body;
  let action: string | undefined;
  if (options.action !== undefined) {
    action = options.action.toLowerCase();
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new ChutesCliError('ERR_VALIDATION', `--action must be one of ${ACTIONS.join(', ')}`);
    }
  }
  if (options.jsonInput !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.jsonInput);
    } catch (error) {
      throw new ChutesCliError('ERR_VALIDATION', 'Invalid scopes JSON provided!', { cause: error });
    }
    const scopes = (parsed as { scopes?: unknown })?.scopes;
    if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'object' || scope === null)) {
      throw new ChutesCliError('ERR_VALIDATION', '--json-input must be {"scopes": [{...}, ...]}');
    }
    body.scopes = scopes as ApiKeyScope[];
    return body;
  }
  const scopes: ApiKeyScope[] = [];
  const add = (
    objectType: 'images' | 'chutes',
    flag: boolean | undefined,
    ids: string[] | undefined,
  ): void => {
    if (ids && ids.length > 0) {
      for (const id of [...new Set(ids)])
        scopes.push(
          action
            ? { object_type: objectType, object_id: id, action }
            : { object_type: objectType, object_id: id },
        );
    } else if (flag) {
      scopes.push(action ? { object_type: objectType, action } : { object_type: objectType });
    }
  };
  add('images', options.images, options.imageIds);
  add('chutes', options.chutes, options.chuteIds);
  if (action === 'invoke' && !scopes.some((scope) => scope.object_type === 'chutes'))
    scopes.push({ object_type: 'chutes', action });
  body.scopes = scopes;
  return body;
}

/** `chutes keys create|list|get|delete`. */
export function registerKeysCommand(program: Command, ctx: CliContext): void {
  const command = program.command('keys').description('Manage API keys');
  const create = command
    .command('create')
    .description('create an API key')
    .requiredOption('--name <name>', 'name to assign to the API key');
  addFlag(create, 'admin', 'allow any action for this API key');
  addFlag(create, 'images', 'allow access to images');
  addFlag(create, 'chutes', 'allow access to chutes');
  create
    .option('--image-ids <id>', 'allow access to a specific image (repeatable)', collect)
    .option('--chute-ids <id>', 'allow access to a specific chute (repeatable)', collect)
    .option('--action <action>', 'verb for all scopes: read, write, delete or invoke (case-insensitive)')
    .option(
      '--json-input <json>',
      'raw scopes document, e.g. {"scopes":[{"object_type":"chutes","action":"invoke"}]}',
    );
  addApiOptions(create, { apiKey: false }).action(
    async (options: ApiOptions & KeyScopeOptions & { name: string }) => {
      const body = buildKeyScopes(options.name, options);
      const { client } = await ctx.client(options, false);
      const data = await client.createApiKey(body);
      ctx.result(
        options,
        data,
        () =>
          `API key created successfully\n${JSON.stringify(data, null, 2)}\n\nTo use the key, add "Authorization: Basic ${String(data['secret_key'])}" to your headers!`,
      );
    },
  );
  addCrudCommands(command, ctx, 'api_keys');
}
