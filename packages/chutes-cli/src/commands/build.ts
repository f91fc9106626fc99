import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { ApiOptions, CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { imageUploadBody, packBuildContext } from '../sdk/build-context.js';
import { httpError } from '../sdk/client.js';
import { createAddDirective, createRunDirective, Image } from '../sdk/image.js';
import { loadChute } from '../sdk/loader.js';
import { secretReason } from '../sdk/secret-files.js';
import { readLines } from '../sdk/sse.js';
import { VERSION } from '../sdk/version.js';
import { uploadLogo, warnImageUid } from './chute-helpers.js';
import { addApiOptions, addFlag } from './shared.js';

interface BuildOptions extends ApiOptions {
  logo?: string;
  local?: boolean;
  includeCwd?: boolean;
  wait?: boolean;
  public?: boolean;
  yes?: boolean;
  listAll?: boolean;
}

/** `chutes build MODULE:EXPORT`: builds the chute's image remotely (zip upload) or locally with docker. */
export function registerBuildCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('build')
    .description('Build an image for the chutes platform')
    .argument('<chute_ref>', 'module:variable of the chute, e.g. llama1b:chute (.py) or my_chute.ts:chute')
    .option('--logo <path>', 'path to the logo to use for this image');
  addFlag(command, 'local', 'build the image locally with docker, useful for testing/debugging');
  addFlag(command, 'include-cwd', 'include the entire current directory in build context, recursively');
  addFlag(command, 'wait', 'wait for the image to be built, streaming its logs');
  addFlag(command, 'public', 'mark the image as public/available to anyone');
  command
    .option('--list-all', 'list every file of the build context before uploading (default: the first 10)')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)');
  addApiOptions(command, { apiKey: false }).action(async (ref: string, options: BuildOptions) => {
    const loaded = await loadChute(ref, ctx.io.cwd, ctx.io.env);
    const image = loaded.chute.image;
    if (!Image.isInstance(image)) {
      throw new ChutesCliError(
        'ERR_VALIDATION',
        `You appear to be using a pre-defined/standard image '${image}', no need to build anything!`,
      );
    }
    warnImageUid(ctx, image);
    const cwd = ctx.io.cwd;

    if (options.local) {
      await buildLocal(ctx, image, loaded.code, loaded.pythonModule, options);
      return;
    }

    const { client } = await ctx.client(options, false);
    if (await client.find('images', image.uid)) {
      throw new ChutesCliError(
        'ERR_HTTP',
        `Image with name=${image.name} and tag=${image.tag} already exists!`,
        { status: 409 },
      );
    }
    const logoId = options.logo ? await uploadLogo(ctx, client, options.logo) : null;
    if (options.includeCwd) image.appendDirective(createAddDirective('.', '/app', { cwd }));
    ctx.debug(options, `Generated Dockerfile:\n${image.toString()}`);
    const context = packBuildContext(image, cwd);
    ctx.info(
      `Found ${context.listed.length} files to include in build context -- these will be uploaded for remote builds!`,
    );
    const secrets = context.files
      .map((file) => ({ file, reason: secretReason(file, join(cwd, file)) }))
      .filter((entry): entry is { file: string; reason: string } => entry.reason !== null);
    const flagged = new Map(secrets.map((entry) => [entry.file, entry.reason]));
    const shown = options.listAll ? context.listed : context.listed.slice(0, 10);
    for (const file of shown)
      ctx.info(` ${file}${flagged.has(file) ? `   <- looks like a secret (${flagged.get(file)})` : ''}`);
    if (shown.length < context.listed.length)
      ctx.info(` ... and ${context.listed.length - shown.length} more (--list-all shows every file)`);
    if (secrets.length > 0) {
      ctx.warn(
        `the build context includes ${secrets.length} file(s) that look like secrets and will be uploaded: ${secrets
          .map((entry) => `${entry.file} (${entry.reason})`)
          .join(', ')}; exclude them from add() unless the image really needs them`,
      );
    }
    await ctx.confirm('Confirm submitting build context?', options.yes);
    const multipart = imageUploadBody(image, context.zip, { public: options.public === true, logoId });
    const data = await client.createImage(multipart.body, multipart.contentType);
    const imageId = String(data['image_id']);
    ctx.info(`Uploaded image package: image_id=${imageId}, build will run async`);
    const logs: string[] = [];
    if (options.wait) {
      await ctx.io.sleep(5000);
      let offset: string | undefined;
      let finished = false;
      for (let attempt = 0; attempt <= 10 && !finished; attempt++) {
        const response = await client.imageLogs(imageId, offset);
        if ((response.headers.get('content-type') ?? '').includes('text/plain')) {
          const text = await response.text();
          logs.push(text);
          if (!options.json) ctx.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
          finished = true;
          break;
        }
        if (response.status !== 200) throw await httpError(response, 'streaming build logs');
        try {
          for await (const line of readLines(response.body)) {
            const trimmed = line.trim();
            if (!trimmed) continue;
            if (trimmed.startsWith('DONE')) {
              finished = true;
              break;
            }
            if (!trimmed.startsWith('data: {')) continue;
            const event = JSON.parse(trimmed.slice(6)) as { log?: unknown; offset?: unknown };
            const entry = event.log;
            let text = typeof entry === 'string' ? entry : JSON.stringify(entry);
            let warning = false;
            if (entry && typeof entry === 'object') {
              const record = entry as { log_type?: unknown; log?: unknown };
              warning = record.log_type !== 'stdout';
              text = typeof record.log === 'string' ? record.log : JSON.stringify(entry);
            }
            logs.push(text.trim());
            if (!options.json) (warning ? ctx.io.stderr : ctx.io.stdout)(`${text.trim()}\n`);
            if (typeof event.offset === 'string') offset = event.offset;
          }
          finished = true;
        } catch (error) {
          if (ChutesCliError.isInstance(error) && error.code !== 'ERR_STREAM') throw error;
          ctx.warn(`Error streaming logs, retrying...: ${(error as Error).message}`);
          await ctx.io.sleep(1000);
        }
      }
      if (!finished) throw new ChutesCliError('ERR_STREAM', 'could not stream the build logs');
    }
    ctx.result(
      options,
      {
        image_id: imageId,
        uid: image.uid,
        server_uid: image.serverUid,
        files: context.files,
        ...(options.wait ? { logs } : {}),
      },
      options.wait ? '' : `image_id=${imageId}`,
    );
  });
}

async function buildLocal(
  ctx: CliContext,
  image: Image,
  python: string,
  moduleName: string,
  options: BuildOptions,
): Promise<void> {
  const cwd = ctx.io.cwd;
  const workDir = await mkdtemp(join(cwd, '.chutes-build-'));
  try {
    image.appendDirective(createRunDirective(`pip install chutes==${VERSION.sdk}`));
    if (options.includeCwd) image.appendDirective(createAddDirective('.', '/app', { cwd }));
    else {
      await mkdir(workDir, { recursive: true });
      const modulePath = join(workDir, `${moduleName}.py`);
      await writeFile(modulePath, python);
      image.appendDirective(createAddDirective(relative(cwd, modulePath), `/app/${moduleName}.py`, { cwd }));
    }
    const dockerfile = join(workDir, 'Dockerfile');
    await writeFile(dockerfile, image.toString());
    ctx.debug(options, `Generated Dockerfile:\n${image.toString()}`);
    ctx.info(`Starting build of ${dockerfile}...`);
    let result: { code: number | null };
    try {
      result = await ctx.io.run(
        'docker',
        ['build', '--platform=linux/amd64', '-t', `${image.name}:${image.tag}`, '.', '-f', dockerfile],
        { cwd },
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ChutesCliError(
        'ERR_DOCKER',
        code === 'ENOENT'
          ? 'docker was not found in PATH; install Docker to use --local'
          : `cannot run docker (${code ?? 'error'})`,
        { cause: error },
      );
    }
    if (result.code !== 0)
      throw new ChutesCliError('ERR_DOCKER', `docker build failed with exit code ${String(result.code)}`);
    ctx.result(
      options,
      { image: `${image.name}:${image.tag}`, local: true },
      `Built ${image.name}:${image.tag} locally`,
    );
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
