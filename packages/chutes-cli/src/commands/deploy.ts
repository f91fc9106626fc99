import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { Image } from '../sdk/image.js';
import { loadChute } from '../sdk/loader.js';
import { uploadLogo, warnImageUid } from './chute-helpers.js';
import { addApiOptions, addFlag } from './shared.js';

interface DeployOptions extends ApiOptions {
  logo?: string;
  public?: boolean;
  acceptFee?: boolean;
  yes?: boolean;
}

/** `chutes deploy MODULE:EXPORT`: deploys a chute (fee notice, `--accept-fee`, `--public`, logo). */
export function registerDeployCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('deploy')
    .description('Deploy a chute to the platform')
    .argument('<chute_ref>', 'module:variable of the chute, e.g. llama1b:chute (.py) or llama.ts:chute')
    .option('--logo <path>', 'optional path to a logo to use for the chute');
  addFlag(command, 'public', 'mark the chute as public/available to anyone');
  addFlag(
    command,
    'accept-fee',
    'acknowledge the deployment fee and accept being charged upon deployment (also confirms)',
  );
  command.option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)');
  addApiOptions(command, { apiKey: false }).action(async (ref: string, options: DeployOptions) => {
    const loaded = await loadChute(ref, ctx.io.cwd, ctx.io.env);
    const chute = loaded.chute;
    const { filename, refStr, code } = loaded;
    // Validate the body (node selector etc.) before any request.
    chute.toDeployBody({ filename, refStr, code });
    if (Image.isInstance(chute.image)) warnImageUid(ctx, chute.image);
    const { client } = await ctx.client(options, false);
    const imageId = typeof chute.image === 'string' ? chute.image : chute.image.uid;
    const image = await client.find('images', imageId);
    if (image?.['status'] !== 'built and pushed') {
      throw new ChutesCliError('ERR_VALIDATION', `Image '${imageId}' is not available to be used (yet)!`);
    }
    if (options.public && !image['public']) {
      throw new ChutesCliError('ERR_VALIDATION', 'Unable to create public chutes from non-public images');
    }
    if (options.public) {
      const me = await client.me();
      const bitmask = typeof me['permissions_bitmask'] === 'number' ? me['permissions_bitmask'] : 0;
      const permissions = Array.isArray(me['permissions']) ? me['permissions'] : [];
      if ((bitmask & (1 << 11)) === 0 && !permissions.includes('Allow deploying models publicly.')) {
        throw new ChutesCliError(
          'ERR_HTTP',
          'Public chutes are no longer possible without special permissions, please create the chute as private and use `chutes share ...` command to share with others.',
          { status: 403 },
        );
      }
    }
    // The fee applies to new chutes only: an update of an existing chute of the same name is free.
    const existing = await client.find('chutes', chute.name);
    if (existing) {
      ctx.info(`Updating the existing chute ${chute.name}: no deployment fee applies.`);
    } else {
      const fee = chute.nodeSelector!.deploymentFee();
      ctx.info(
        `Deployment fee notice: this new chute costs a one-time fee of about $${fee.toFixed(2)} (3 x gpu_count^2 x the cheapest matching GPU's hourly rate).${options.acceptFee ? '' : ' Pass --accept-fee to accept it.'}`,
      );
    }
    const logoId = options.logo ? await uploadLogo(ctx, client, options.logo) : null;
    await ctx.confirm(
      `You are about to upload ${filename}${loaded.language === 'javascript' ? ` (generated from ${loaded.file})` : ''} and deploy ${chute.name}, confirm?`,
      options.yes || options.acceptFee,
      '--yes (or --accept-fee)',
    );
    const body = chute.toDeployBody({ filename, refStr, code, public: options.public === true, logoId });
    let data: Record<string, unknown>;
    try {
      data = await client.deploy(body, options.acceptFee === true);
    } catch (error) {
      if (ChutesCliError.isInstance(error) && error.status === 402 && !options.acceptFee) {
        throw new ChutesCliError(
          'ERR_HTTP',
          `${error.message} (re-run with --accept-fee to accept the fee)`,
          {
            status: 402,
            ...(error.detail !== undefined ? { detail: error.detail } : {}),
            cause: error,
          },
        );
      }
      throw error;
    }
    ctx.result(
      options,
      data,
      `Successfully deployed chute ${chute.name} chute_id=${String(data['chute_id'])} version=${String(data['version'])} invocations will be available soon!`,
    );
  });
}
