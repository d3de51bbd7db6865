import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../app';
import { closeRedis } from '../platform/redis';
import { publishedOpenApiDocument } from '../platform/http/health.routes';

// npm run openapi -- [file]     writes the OpenAPI document that GET /api/openapi.json serves
//                               (default dist/openapi.json), built from the routes without a database.
// `npm run lint:openapi` lints that file with Redocly's recommended rules.
const target = path.resolve(process.argv[2] ?? 'dist/openapi.json');

async function main(): Promise<void> {
  // createApp registers every route and publishes the document; nothing here opens the database.
  createApp();
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(publishedOpenApiDocument(), null, 2)}\n`);
  process.stdout.write(`OpenAPI document written to ${path.relative(process.cwd(), target) || target}\n`);
}

main()
  .then(() => closeRedis())
  .then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`openapi failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
