import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { httpError } from '../sdk/client.js';
import { loadChute, parseChuteRef, resolveChuteModule } from '../sdk/loader.js';
import { readSseJson } from '../sdk/sse.js';
import { addApiOptions, addFlag } from './shared.js';

function logText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'log' in value) return String((value as { log: unknown }).log);
  return JSON.stringify(value);
}

/** `chutes warmup REF_OR_ID`: warms a chute up, streaming the SSE status; optionally instance logs. */
export function registerWarmupCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('warmup')
    .description('Warm up a chute')
    .argument('<chute_id_or_ref>', 'chute name, UUID, or module:export');
  addFlag(command, 'stream-logs', 'stream the logs of the first instance once it exists');
  command.option(
    '--max-polls <n>',
    'instance polls with --stream-logs (5 s apart)',
    (value) => Number.parseInt(value, 10),
    60,
  );
  addApiOptions(command).action(
    async (ref: string, options: ApiOptions & { streamLogs?: boolean; maxPolls: number }) => {
      let name = ref;
      const parsed = parseChuteRef(ref);
      if (ref.includes(':') && resolveChuteModule(parsed.module, ctx.io.cwd)) {
        name = (await loadChute(ref, ctx.io.cwd)).chute.name;
      }
      const { client } = await ctx.client(options);
      const response = await client.warmup(name);
      if (response.status !== 200) throw await httpError(response, `warming up ${name}`);
      const events: unknown[] = [];
      let hot = false;
      for await (const event of readSseJson(response.body)) {
        events.push(event);
        const status = (event as { status?: unknown })?.status;
        if (!options.json)
          ctx.info(`[${String(status ?? '?')}] ${logText((event as { log?: unknown })?.log ?? '')}`);
        if (status === 'hot') {
          hot = true;
          break;
        }
      }
      if (!hot)
        throw new ChutesCliError(
          'ERR_STREAM',
          `the warm-up stream of ${name} ended before the chute was hot`,
        );
      const logs: string[] = [];
      if (options.streamLogs) {
        let instanceId: string | undefined;
        for (let poll = 0; poll < options.maxPolls && !instanceId; poll++) {
          const chute = await client.get('chutes', name);
          const instances = Array.isArray(chute['instances'])
            ? (chute['instances'] as Array<Record<string, unknown>>)
            : [];
          instanceId = instances
            .map((instance) => instance['instance_id'])
            .find((id): id is string => typeof id === 'string');
          if (!instanceId) await ctx.io.sleep(5000);
        }
        if (!instanceId) throw new ChutesCliError('ERR_STREAM', `no instance of ${name} appeared`);
        const logResponse = await client.instanceLogs(instanceId);
        if (logResponse.status !== 200)
          throw await httpError(logResponse, `streaming logs of instance ${instanceId}`);
        for await (const event of readSseJson(logResponse.body)) {
          const text = logText(event);
          logs.push(text);
          if (!options.json) ctx.io.stdout(`${text}\n`);
        }
      }
      ctx.result(
        options,
        { chute: name, status: 'hot', events, logs },
        options.streamLogs ? '' : `${name} is hot`,
      );
    },
  );
}
