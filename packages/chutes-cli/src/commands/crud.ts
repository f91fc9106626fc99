import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import type { ChutesClient, ObjectType } from '../sdk/client.js';
import { addApiOptions, addFlag, formatTable, parseInteger } from './shared.js';

type Columns = Array<[string, (row: Record<string, unknown>) => unknown]>;

const COLUMNS: Record<ObjectType, Columns> = {
  chutes: [
    ['ID', (row) => row['chute_id']],
    ['Name', (row) => row['name']],
    ['Status', (row) => (row['hot'] ? 'hot' : 'cold')],
    ['Slug', (row) => row['slug']],
    ['Created', (row) => row['created_at']],
  ],
  images: [
    ['ID', (row) => row['image_id']],
    ['Name', (row) => row['name']],
    ['Tag', (row) => row['tag']],
    ['Status', (row) => row['status']],
    ['Created', (row) => row['created_at']],
  ],
  api_keys: [
    ['ID', (row) => row['api_key_id']],
    ['Name', (row) => row['name']],
    ['Admin', (row) => (row['admin'] ? 'true' : 'false')],
    ['Scopes', (row) => (Array.isArray(row['scopes']) && row['scopes'].length > 0 ? row['scopes'] : '-')],
  ],
  secrets: [
    ['Secret ID', (row) => row['secret_id']],
    ['Purpose', (row) => row['purpose']],
    ['Key', (row) => row['key']],
    ['Created', (row) => row['created_at']],
  ],
};

const SINGULAR: Record<ObjectType, [string, string]> = {
  chutes: ['chute', 'chute_id'],
  images: ['image', 'image_id'],
  api_keys: ['API key', 'api_key_id'],
  secrets: ['secret', 'secret_id'],
};

interface ListOptions extends ApiOptions {
  name?: string;
  limit?: number;
  page?: number;
  includePublic?: boolean;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id to send for `get`/`delete`. The server resolves API keys by `api_key_id` only, so a name is looked up in
 * the key list first (an exact, unique match); other types are resolved by the server from a name or an id.
 * @throws ChutesCliError `ERR_HTTP` 404 when no key has that name, `ERR_VALIDATION` when several do.
 */
async function resolveRef(client: ChutesClient, type: ObjectType, ref: string): Promise<string> {
  if (type !== 'api_keys' || UUID_RE.test(ref)) return ref;
  const matches = (await client.list('api_keys', { name: ref, limit: 500 })).items.filter(
    (item) => item['name'] === ref,
  );
  if (matches.length === 0)
    throw new ChutesCliError('ERR_HTTP', `no API key named ${JSON.stringify(ref)}`, { status: 404 });
  if (matches.length > 1)
    throw new ChutesCliError(
      'ERR_VALIDATION',
      `${matches.length} API keys are named ${JSON.stringify(ref)} (${matches.map((item) => String(item['api_key_id'])).join(', ')}): pass the id`,
    );
  return String(matches[0]!['api_key_id']);
}

/** Adds `list`, `get` and `delete` sub-commands for one object type. */
export function addCrudCommands(parent: Command, ctx: CliContext, type: ObjectType): void {
  const list = parent.command('list').description(`list ${type.replace('_', ' ')}`);
  if (type !== 'secrets') list.option('--name <name>', 'filter by name');
  list
    .option('--limit <n>', 'page size', parseInteger('limit'), 25)
    .option('--page <n>', 'page number', parseInteger('page'), 0);
  if (type === 'chutes' || type === 'images') addFlag(list, 'include-public', 'include public objects');
  addApiOptions(list).action(async (options: ListOptions) => {
    const { client } = await ctx.client(options);
    const data = await client.list(type, options);
    ctx.result(options, data, () => {
      const header = `Found ${data.total} matching ${type.replace('_', ' ')}, displaying ${data.items.length}`;
      return data.items.length === 0 ? header : `${header}\n${formatTable(COLUMNS[type], data.items)}`;
    });
  });

  const idLabel = type === 'secrets' ? 'SECRET_ID' : 'NAME_OR_ID';
  addApiOptions(
    parent.command('get').description(`get one ${SINGULAR[type][0]}`).argument(`<${idLabel.toLowerCase()}>`),
  ).action(async (ref: string, options: ApiOptions) => {
    const { client } = await ctx.client(options);
    const data = await client.get(type, await resolveRef(client, type, ref));
    ctx.result(options, data, () => JSON.stringify(data, null, 2));
  });

  const remove = parent
    .command('delete')
    .description(`delete one ${SINGULAR[type][0]}`)
    .argument(`<${idLabel.toLowerCase()}>`);
  remove.option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)');
  addApiOptions(remove).action(async (ref: string, options: ApiOptions & { yes?: boolean }) => {
    const { client } = await ctx.client(options);
    const id = await resolveRef(client, type, ref);
    await ctx.confirm(
      `Are you sure you want to delete ${type}/${ref}?  This action is irreversable.`,
      options.yes,
    );
    const data = await client.delete(type, id);
    ctx.result(
      options,
      data,
      `Successfully deleted ${SINGULAR[type][0]} ${String(data[SINGULAR[type][1]] ?? ref)}`,
    );
  });
}
