import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { logoUploadBody } from '../sdk/build-context.js';
import type { ChutesClient } from '../sdk/client.js';
import type { Image } from '../sdk/image.js';

/** D4: warn when the SDK uid and the server's image id differ (upper case in name or tag). */
export function warnImageUid(ctx: CliContext, image: Image): void {
  if (image.uid !== image.serverUid) {
    ctx.warn(
      `image ${image.username}/${image.name}:${image.tag} has upper-case letters: the SDK uid is ${image.uid} but the server id will be ${image.serverUid}`,
    );
  }
}

/** Uploads a logo file (`POST /logos/`) and returns its id. */
export async function uploadLogo(ctx: CliContext, client: ChutesClient, path: string): Promise<string> {
  let data: Uint8Array;
  try {
    data = await readFile(resolve(ctx.io.cwd, path));
  } catch (error) {
    throw new ChutesCliError('ERR_VALIDATION', `cannot read logo file ${path}`, { cause: error });
  }
  const body = logoUploadBody(path, data);
  const result = await client.uploadLogo(body.body, body.contentType);
  const logoId = result['logo_id'];
  if (typeof logoId !== 'string') throw new ChutesCliError('ERR_STREAM', 'logo upload answer lacks logo_id');
  ctx.info(`Uploaded logo: logo_id=${logoId}`);
  return logoId;
}
