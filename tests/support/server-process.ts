import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** A script of src/ in a process of its own (node itself, with tsx's loader, so signals reach the app), its output captured. */
function spawnScript(script: string, env: NodeJS.ProcessEnv): ServerProcess {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** `src/server.ts` in a process of its own, with exactly this environment, its output captured. */
export function spawnServer(env: NodeJS.ProcessEnv): ServerProcess {
  return spawnScript('src/server.ts', env);
}

/** `src/cli/worker.ts` (`npm run worker`) in a process of its own, with exactly this environment, its output captured. */
export function spawnWorker(env: NodeJS.ProcessEnv): ServerProcess {
  return spawnScript('src/cli/worker.ts', env);
}
