import 'reflect-metadata';
import type { Sequelize } from 'sequelize-typescript';
import { ConfigError, ensureConfig } from '../platform/config';
import { closeDatabase } from '../platform/db';
import { connectDatabase } from '../platform/db/bootstrap';

/** Reads `--name value` pairs (and bare `--flag`s) from argv. */
export function parseArgs(argv: string[] = process.argv.slice(2)): { positional: string[]; options: Record<string, string | true> } {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      const next = argv[i + 1];
      if (inline !== undefined) options[name] = inline;
      else if (next !== undefined && !next.startsWith('--')) {
        options[name] = next;
        i += 1;
      } else options[name] = true;
    } else positional.push(arg);
  }
  return { positional, options };
}

export class UsageError extends Error {}

/**
 * Runs an operator command against the configured database: DATABASE_URL / DB_HOST…, or the
 * embedded PostgreSQL of DATA_DIR (joined when the server runs, else started and stopped here).
 */
export async function runCommand(name: string, command: (sequelize: Sequelize) => Promise<void>): Promise<void> {
  let stop: (() => Promise<void>) | undefined;
  let code = 0;
  try {
    ensureConfig();
    const { sequelize, embedded } = await connectDatabase();
    if (embedded?.owned) stop = () => embedded.stop();
    await command(sequelize);
  } catch (error) {
    code = 1;
    if (error instanceof ConfigError || error instanceof UsageError) process.stderr.write(`${name}: ${error.message}\n`);
    else process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } finally {
    await closeDatabase().catch(() => undefined);
    await stop?.().catch(() => undefined);
  }
  process.exit(code);
}
