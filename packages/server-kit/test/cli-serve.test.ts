// announceAndStopOnSignals in a real process: SIGTERM sent the moment the ready line arrives closes the server and
// exits 0 (the handlers are installed before the line is printed), and a second SIGTERM while it
// closes (a wrapper such as npm passing a signal on more than once) waits for the same close instead of killing
// the process half-way (which lost the last log lines and the clean exit status).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SERVER = fileURLToPath(new URL('./fixtures/slow-close-server.mjs', import.meta.url));

function run(
  signals: number,
  first: NodeJS.Signals = 'SIGTERM',
  second: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER, '800'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (/^listening on /m.test(output) && !output.includes('signalled')) {
        output += 'signalled\n';
        child.kill(first);
      }
      // The second signal only once the first one is being handled.
      if (signals > 1 && output.includes('closing\n') && !output.includes('again')) {
        output += 'again\n';
        child.kill(second);
      }
    });
    child.once('error', reject);
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, output });
    });
  });
}

describe('announceAndStopOnSignals', () => {
  it('SIGTERM: closes the server, then exits 0', async () => {
    const result = await run(1);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.output).toContain('exit 0 closed=true');
  });

  it('a second SIGTERM while closing waits for the same close: exit 0, not death by the signal', async () => {
    const result = await run(2);
    expect(result.output).toContain('again');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.output).toContain('exit 0 closed=true');
    expect(result.output.match(/^closing$/gm)).toHaveLength(1);
    expect(result.output).not.toContain('skip drain');
  });

  it('SIGINT (Ctrl-C) closes without the drain; a SIGINT during a SIGTERM close cuts its drain short', async () => {
    const interrupted = await run(1, 'SIGINT');
    expect(interrupted).toMatchObject({ code: 0, signal: null });
    expect(interrupted.output).toMatch(/skip drain\nclosing\n/);
    const both = await run(2, 'SIGTERM', 'SIGINT');
    expect(both).toMatchObject({ code: 0, signal: null });
    expect(both.output).toMatch(/closing\n(.|\n)*again\nskip drain\n/);
    expect(both.output.match(/^closing$/gm)).toHaveLength(1);
    expect(both.output).toContain('exit 0 closed=true');
  });
});
