import type { Request, Response } from 'express';
import { getSequelize } from '../db';
import { getRedis } from '../integrations/redis';
import { ApiRouter } from '../utils/openapi';
import { registry } from '../utils/metrics';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function check(run: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await withTimeout(run(), CHECK_TIMEOUT_MS);
    return 'up';
  } catch {
    return 'down';
  }
}

let openApiDocument: Record<string, unknown> = {};

/** The document served at /api/openapi.json, built once the routes are registered. */
export function publishOpenApiDocument(document: Record<string, unknown>): void {
  openApiDocument = document;
}

export const healthRoutes = new ApiRouter('', 'Operations')
  .get('/api/openapi.json', { summary: 'This OpenAPI 3 document' }, (_req: Request, res: Response) => {
    res.json(openApiDocument);
  })
  .documentOnly('get', '/api/docs', { summary: 'Swagger UI over the OpenAPI document (HTML)' })
  .get('/health', { summary: 'Liveness: the process answers', returns: 'success, message, timestamp, uptime' }, (_req: Request, res: Response) => {
    res.json({ success: true, message: 'OK', timestamp: new Date().toISOString(), uptime: process.uptime() });
  })
  .get(
    '/ready',
    { summary: 'Readiness: the database (and Redis, where configured) answer', errors: ['503 NOT_READY'] },
    async (_req: Request, res: Response) => {
      const redis = getRedis();
      const checks: Record<string, 'up' | 'down'> = {
        database: await check(() => getSequelize().query('SELECT 1')),
      };
      if (redis) checks.redis = await check(() => redis.ping());
      const ready = Object.values(checks).every((state) => state === 'up');
      if (ready) {
        res.json({ success: true, data: { checks } });
      } else {
        res.status(503).json({ success: false, error: { code: 'NOT_READY', message: 'A dependency is down', details: [checks] } });
      }
    },
  )
  .get('/metrics', { summary: 'Prometheus metrics: request counts and latency by route, queue depths' }, async (_req: Request, res: Response) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
