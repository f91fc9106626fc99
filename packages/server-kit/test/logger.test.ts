import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  createStderrDestination,
  errorForLog,
  type Logger,
  REDACT_PATHS,
  REDACTED,
} from '../src/index.js';

function captureLogs() {
  const lines: string[] = [];
  return { destination: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
}

describe('logger redaction', () => {
  it('redacts secret-named fields and headers, and scrubs secret values anywhere in a line', () => {
    const logs = captureLogs();
    const logger = createLogger({
      level: 'debug',
      destination: logs.destination,
      secrets: ['s3cr3t-value', 'a"quoted"secret'],
    });
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc', 'x-api-key': 'k1' } },
        apiKey: 'k2',
        nested: { password: 'p' },
      },
      'hello',
    );
    logger.warn({ message: 'upstream said s3cr3t-value and a"quoted"secret' }, 'contains s3cr3t-value');
    logger.error(new Error('boom s3cr3t-value'));
    const text = logs.text();
    for (const leaked of ['Bearer abc', 'k1', 'k2', '"p"', 's3cr3t-value', 'quoted'])
      expect(text).not.toContain(leaked);
    expect(text).toContain(REDACTED);
  });
});

describe('logger redaction against pino applying every path itself', () => {
  // The logger applies the `*.<key>` paths itself (pino would run them on every field of every line); the lines
  // must be the ones pino writes with all of REDACT_PATHS given to its own `redact`.
  const withoutTime = (line: string) => line.replace(/"time":\d+,/g, '');
  const pair = () => {
    const ours = captureLogs();
    const reference = captureLogs();
    return {
      ours,
      reference,
      oursLogger: createLogger({ level: 'debug', destination: ours.destination }),
      referenceLogger: pino(
        {
          level: 'debug',
          base: { name: 'confidential-proxy' },
          redact: { paths: [...REDACT_PATHS], censor: REDACTED },
        },
        reference.destination,
      ) as Logger,
    };
  };

  it('writes the same lines for flat, nested, Error, class and header objects', () => {
    const { ours, reference, oursLogger, referenceLogger } = pair();
    const error = Object.assign(new Error('boom'), { token: 'error-token', code: 'ERR_X' });
    class Settings {
      apiKey = 'class-key';
      other = 1;
    }
    const lines: [Record<string, unknown>, string][] = [
      [{ reqId: 'r1', method: 'POST', route: '/v1/chat/completions', status: 200, ms: 1.2 }, 'request'],
      [
        { config: { token: 'c1', apiKey: 'c2', api_key: 'c3', nested: { password: 'deeper' } }, n: 1 },
        'config',
      ],
      [{ err: error }, 'error field'],
      [{ upstream: error }, 'error elsewhere'],
      [{ settings: new Settings() }, 'class instance'],
      [{ list: [{ token: 'in-array' }], empty: null }, 'array'],
      [{ inherited: Object.create({ token: 'from-prototype' }) }, 'prototype'],
      [
        { req: { headers: { authorization: 'Bearer h', cookie: 'c', accept: '*/*' }, token: 'req-token' } },
        'req',
      ],
      [{ headers: { authorization: 'Bearer h2', 'x-api-key': 'h3', token: 'h4' } }, 'headers'],
      [{ token: 't', authorization: 'a', keySeed: 's', privateKey: 'p' }, 'top level'],
    ];
    for (const [object, message] of lines) {
      oursLogger.info(object, message);
      referenceLogger.info(object, message);
    }
    oursLogger.error(error);
    referenceLogger.error(error);
    expect(withoutTime(ours.text())).toBe(withoutTime(reference.text()));
    for (const leaked of ['c1', 'c2', 'c3', 'error-token', 'class-key', 'req-token', 'Bearer h', 'h3', 'h4'])
      expect(ours.text()).not.toContain(leaked);
    // an Error whose field was censored is still serialized as an Error
    expect(ours.text()).toContain('"message":"boom"');
  });

  it('censors child and grandchild bindings and setBindings', () => {
    const { ours, reference, oursLogger, referenceLogger } = pair();
    for (const logger of [oursLogger, referenceLogger]) {
      const grandchild = logger
        .child({ face: 'vllm' })
        .child({ upstream: { apiKey: 'child-key', name: 'u' } });
      grandchild.info({ extra: { key_seed: 'line-seed' } }, 'child line');
      grandchild.setBindings({ signer: { privateKey: 'bound-key' } });
      grandchild.info('after setBindings');
    }
    expect(withoutTime(ours.text())).toBe(withoutTime(reference.text()));
    for (const leaked of ['child-key', 'line-seed', 'bound-key']) expect(ours.text()).not.toContain(leaked);
  });

  it('leaves the logged object untouched', () => {
    const { oursLogger } = pair();
    const config = { token: 'kept' };
    oursLogger.info({ config }, 'line');
    expect(config.token).toBe('kept');
  });
});

describe('errorForLog', () => {
  it('keeps name, code and stack frames, never the message (it can quote a prompt)', () => {
    const error = Object.assign(new TypeError('the prompt was: attack at dawn'), { code: 'ERR_X' });
    const view = errorForLog(error);
    expect(view).toMatchObject({ name: 'TypeError', code: 'ERR_X' });
    expect(JSON.stringify(view)).not.toContain('attack at dawn');
    expect((view.frames as string[]).every((frame) => frame.startsWith('at '))).toBe(true);
    expect(errorForLog('plain string')).toEqual({ type: 'string' });
  });

  it('names the program that wrote a line', () => {
    const logs = captureLogs();
    createLogger({ destination: logs.destination, name: 'tee-gateway' }).info('hello');
    expect(JSON.parse(logs.text())).toMatchObject({ name: 'tee-gateway', msg: 'hello' });
  });
});

describe('createStderrDestination', () => {
  it('writes the lines of one event-loop turn together, and everything still waiting at exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'server-kit-log-'));
    const path = join(dir, 'log');
    const fd = openSync(path, 'w');
    try {
      const destination = createStderrDestination(fd);
      destination.write('one\n');
      destination.write('two\n');
      // nothing written yet: the lines wait for the end of this turn
      expect(readFileSync(path, 'utf8')).toBe('');
      await new Promise((resolve) => setImmediate(resolve));
      expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
      destination.write('three\n');
      destination.flush();
      expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loses no line when the process exits in the same turn', async () => {
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const code = `const { createLogger } = await import(${JSON.stringify(entry)});
const logger = createLogger();
for (let index = 0; index < 3; index++) logger.info({ index }, 'line');
process.exit(3);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(child.status).toBe(3);
    const lines = child.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.index)).toEqual([0, 1, 2]);
  });
});
