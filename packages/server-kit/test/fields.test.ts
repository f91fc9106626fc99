import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  checkBearer,
  describeFailure,
  escapeControlCharacters,
  exceedsJsonDepth,
  formatConfigIssues,
  isHttpUrl,
  isLoopbackAddress,
  isLoopbackHost,
  jsonNestingDepth,
  MAX_JSON_DEPTH,
  parseBooleanWord,
  parsePort,
  portNumber,
  runProgram,
  ServerKitError,
  strictBoolean,
} from '../src/index.js';

describe('strict configuration fields', () => {
  it('booleans: eight words and nothing else', () => {
    for (const word of ['1', 'true', 'YES', ' on ']) expect(parseBooleanWord(word)).toBe(true);
    for (const word of ['0', 'False', 'no', 'off']) expect(parseBooleanWord(word)).toBe(false);
    for (const word of ['ture', 'maybe', '', 'enabled', '2']) expect(parseBooleanWord(word)).toBeUndefined();
    expect(strictBoolean.safeParse('ture').success).toBe(false);
    expect(strictBoolean.parse('off')).toBe(false);
  });

  it('URLs: http(s) without credentials', () => {
    expect(isHttpUrl('https://facilitator.example')).toBe(true);
    for (const url of ['https://user:pw@host', 'javascript:alert(1)', 'ftp://x', 'https://exa mple.test'])
      expect(isHttpUrl(url)).toBe(false);
  });

  it('ports: 0-65535 from numbers or digit strings; the CLI flag uses the same rule', () => {
    expect(portNumber.parse('8080')).toBe(8080);
    expect(portNumber.parse(0)).toBe(0);
    for (const bad of [65536, -1, 1.5, '80a', 'http'])
      expect(portNumber.safeParse(bad).success, String(bad)).toBe(false);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['65536', '-1', '1e3', '', ' 80']) expect(() => parsePort(bad), bad).toThrow(/0-65535/);
  });
});

describe('ingress bounds', () => {
  it('JSON depth in one linear scan, brackets inside strings ignored', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"]"}]}')).toBe(3);
    expect(exceedsJsonDepth(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
    expect(exceedsJsonDepth(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toBe(true);
    expect(exceedsJsonDepth('['.repeat(100_000))).toBe(true);
  });

  it('escapes control, bidi-control and separator characters, nothing else', () => {
    expect(escapeControlCharacters('gpt\u0000\u202e4\u2028é')).toBe('gpt\\u0000\\u202e4\\u2028é');
  });
});

describe('access helpers', () => {
  it('checkBearer fails closed without a configured token', () => {
    expect(checkBearer('Bearer secret', 'secret')).toBe('ok');
    expect(checkBearer('bearer  secret ', 'secret')).toBe('ok');
    expect(checkBearer(undefined, 'secret')).toBe('missing');
    expect(checkBearer('Basic secret', 'secret')).toBe('missing');
    expect(checkBearer('Bearer other', 'secret')).toBe('invalid');
    expect(checkBearer('Bearer secret', undefined)).toBe('invalid');
  });

  it('loopback addresses and hosts', () => {
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::', '0.0.0.0', undefined])
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});

describe('command lines', () => {
  it('one line per failure: configuration issues with key and env var, toolkit messages, others by name', () => {
    const configError = Object.assign(new Error('invalid configuration:\n  - ...'), {
      code: 'ERR_CONFIG_INVALID',
      issues: [{ tomlKey: 'server.port', envVar: 'PROXY_PORT', message: 'must be <= 65535' }],
    });
    expect(describeFailure(configError)).toBe(
      'invalid configuration: server.port (env PROXY_PORT): must be <= 65535',
    );
    expect(formatConfigIssues([{ tomlKey: 'a.b', envVar: undefined, message: 'm' }])).toBe('a.b: m');
    const toolkit = new Error('cannot listen on 127.0.0.1:1 (EACCES)\nmore');
    Object.defineProperty(toolkit, Symbol.for('confidential-ai.error.server-kit'), { value: true });
    expect(describeFailure(toolkit)).toBe('cannot listen on 127.0.0.1:1 (EACCES)');
    expect(describeFailure(new TypeError('bad\nsecond line'))).toBe('TypeError: bad');
  });

  it('runProgram: the one CLI shape (usage errors exit 2 with ERR_USAGE, failures exit 1, JSON on stdout)', async () => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: (text: string) => {
        stderr += text;
      },
    };
    const clear = () => {
      stdout = '';
      stderr = '';
    };
    const program = () => {
      const command = new Command('tool')
        .exitOverride()
        .configureOutput({ writeErr: () => {}, writeOut: () => {} });
      command.command('fail').action(() => {
        throw new Error('nope');
      });
      command.command('ok').action(() => {});
      command
        .command('port')
        .argument('<port>', 'port', parsePort)
        .option('--json', 'one-line JSON')
        .action(() => {});
      command.command('config').action(() => {
        throw Object.assign(new Error('invalid configuration'), {
          code: 'ERR_CONFIG_INVALID',
          issues: [{ tomlKey: 'server.port', envVar: 'PROXY_PORT', message: 'must be <= 65535' }],
        });
      });
      command.command('busy').action(() => {
        const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use ::1:8000'), {
          code: 'EADDRINUSE',
          address: '::1',
          port: 8000,
        });
        throw new ServerKitError('ERR_SERVER_START', 'cannot listen on ::1:8000 (EADDRINUSE)', {
          cause: inUse,
        });
      });
      return command;
    };
    expect(await runProgram(program(), ['node', 'tool', 'ok'], io)).toBe(0);
    expect(stdout + stderr).toBe('');
    expect(await runProgram(program(), ['node', 'tool', 'port', '99999', '--json'], io)).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: {
        code: 'ERR_USAGE',
        message:
          "command-argument value '99999' is invalid for argument 'port'. expected a port number 0-65535",
      },
    });
    expect(stderr).toMatch(/^tool: ERR_USAGE: .* \(see tool port --help\)\n$/);
    clear();
    expect(await runProgram(program(), ['node', 'tool', 'fail'], io)).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_UNEXPECTED', message: 'Error: nope' },
    });
    expect(stdout).toContain('\n  "ok": false'); // pretty without --json
    expect(stderr).toBe('tool: ERR_UNEXPECTED: Error: nope\n');
    clear();
    expect(await runProgram(program(), ['node', 'tool', 'config'], io)).toBe(1);
    expect(JSON.parse(stdout).error).toEqual({
      code: 'ERR_CONFIG_INVALID',
      message: 'invalid configuration: server.port (env PROXY_PORT): must be <= 65535',
      issues: [{ tomlKey: 'server.port', envVar: 'PROXY_PORT', message: 'must be <= 65535' }],
    });
    clear();
    expect(await runProgram(program(), ['node', 'tool', 'busy'], io)).toBe(1);
    expect(JSON.parse(stdout).error).toMatchObject({ code: 'ERR_ADDRESS_IN_USE', address: '[::1]:8000' });
    expect(stderr).toMatch(/^tool: ERR_ADDRESS_IN_USE: \[::1\]:8000 is already in use/);
    clear();
    expect(await runProgram(program(), ['node', 'tool'], io)).toBe(2);
    expect(JSON.parse(stdout).error).toEqual({ code: 'ERR_USAGE', message: 'a command is required' });
  });
});
