import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ChutesCliError } from '../errors.js';
import type { Chute } from './chute.js';
import { packageAsset } from './package-assets.js';
import { parseJsonExact } from './python-json.js';
import { chuteFromRecord, type RecordedChute } from './python-record.js';

/** How long reading a Python module may take before it is stopped (imports, a Hugging Face lookup). */
const RECORD_TIMEOUT_MS = 120_000;

/** Options of {@link loadPythonChute}. */
export interface PythonChuteOptions {
  /** Absolute path of the `.py` module. */
  file: string;
  /** The module variable holding the chute (or ChutePack). */
  variable: string;
  /** Working directory (relative `Image.add()` sources resolve against it, as in the Python SDK). */
  cwd: string;
  /** Environment; `CHUTES_PYTHON` names the interpreter (default `python3` from PATH). */
  env: Record<string, string | undefined>;
}

interface RecorderAnswer {
  ok: boolean;
  chute?: RecordedChute;
  error?: { kind: 'definition' | 'load'; type: string; message: string; traceback?: string };
}

/**
 * Reads a chute from a Python module by running `python3` with this package's recorder of the chute DSL
 * (`python/chutes`, laid out like the SDK's modules: Image, Chute, NodeSelector, cords, jobs and the vLLM, SGLang,
 * embedding and diffusion templates) instead of the Python chutes SDK, then builds the same {@link Chute} a
 * TypeScript module would give. Cord schemas of pydantic models are rendered by the module's own pydantic.
 * @throws ChutesCliError `ERR_PYTHON_MISSING` when the interpreter cannot be started; `ERR_VALIDATION` for the SDK's
 * own definition errors (message as the SDK words it); `ERR_MODULE_LOAD` when the module fails to import.
 */
export async function loadPythonChute(options: PythonChuteOptions): Promise<Chute> {
  const python = options.env['CHUTES_PYTHON'] || 'python3';
  const dir = await mkdtemp(join(tmpdir(), 'chutes-record-'));
  const out = join(dir, 'chute.json');
  const name = basename(options.file);
  try {
    const { code, stderr } = await runRecorder(python, [options.file, options.variable, out], options);
    let answer: RecorderAnswer;
    try {
      answer = parseJsonExact(await readFile(out, 'utf8')) as RecorderAnswer;
    } catch (error) {
      throw new ChutesCliError(
        'ERR_MODULE_LOAD',
        `cannot load ${name}: ${python} exited with code ${String(code)}${tail(stderr)}`,
        { cause: error },
      );
    }
    if (!answer.ok || !answer.chute) {
      const failure = answer.error ?? { kind: 'load', type: 'Error', message: 'no chute recorded' };
      if (failure.kind === 'definition') throw new ChutesCliError('ERR_VALIDATION', failure.message);
      throw new ChutesCliError('ERR_MODULE_LOAD', `cannot load ${name}: ${failure.type}: ${failure.message}`);
    }
    return chuteFromRecord(answer.chute, options.cwd);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  return lines.length > 0 ? ` (${lines.slice(-3).join(' | ')})` : '';
}

function runRecorder(
  python: string,
  args: string[],
  options: PythonChuteOptions,
): Promise<{ code: number | null; stderr: string }> {
  const script = packageAsset('python', 'record_chute.py');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  env['PYTHONDONTWRITEBYTECODE'] = '1';
  env['PYTHONIOENCODING'] = 'utf-8';
  return new Promise((resolvePromise, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(python, ['-B', script, ...args], {
        cwd: options.cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      reject(missing(python, error));
      return;
    }
    let stderr = '';
    const collect = (chunk: Buffer): void => {
      if (stderr.length < 64_000) stderr += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), RECORD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(missing(python, error));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr });
    });
  });
}

function missing(python: string, error: unknown): ChutesCliError {
  const code = (error as NodeJS.ErrnoException)?.code;
  return new ChutesCliError(
    'ERR_PYTHON_MISSING',
    code === 'ENOENT'
      ? `${python} was not found${python.includes('/') ? '' : ' in PATH'}: .py chute modules are read by running Python 3.8+ (install it, or set CHUTES_PYTHON to its path)`
      : `cannot run ${python} (${code ?? 'error'}) to read the .py chute module`,
    { cause: error },
  );
}
