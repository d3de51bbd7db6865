import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { config } from '../config';
import { queryRows } from '../db/query';
import { getRedis, redisCommand } from '../redis';
import { validate } from './validate.middleware';
import { RouteNotFoundError } from '../utils/errors';
import { ApiRouter, describeMiddleware } from './openapi';
import { registry } from '../utils/metrics';

const CHECK_TIMEOUT_MS = 2000;
/**
 * How long one readiness answer is reused. Probes ask every few seconds; anyone else asking
 * faster (a flood of /ready) shares the same check instead of loading the database.
 */
export const READY_CHECK_TTL_MS = 1000;

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

type Checks = Record<string, 'up' | 'down'>;

async function runChecks(): Promise<Checks> {
  const redis = getRedis();
  const checks: Checks = { database: await check(() => queryRows('SELECT 1', {})) };
  // Down at once while the connection is lost; a first connection being made is waited for.
  if (redis) checks.redis = await check(() => redisCommand((connection) => connection.ping()));
  return checks;
}

let lastCheck: { startedAt: number; settled: boolean; result: Promise<Checks> } | undefined;

/**
 * The dependencies' state, checked at most once per READY_CHECK_TTL_MS: a check in flight is
 * shared by every request that arrives meanwhile (also when the database hangs for the whole
 * timeout), and its answer is reused until the period since it started is over.
 */
function readiness(): Promise<Checks> {
  const now = Date.now();
  if (lastCheck && (!lastCheck.settled || now - lastCheck.startedAt < READY_CHECK_TTL_MS)) return lastCheck.result;
  const current = { startedAt: now, settled: false, result: runChecks() };
  void current.result.finally(() => {
    current.settled = true;
  });
  lastCheck = current;
  return current.result;
}

function sameSecret(presented: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * /metrics lists every route with its traffic and the queues' depths: in production only a scraper
 * that sends `Authorization: Bearer <METRICS_TOKEN>` sees it; anyone else, and everyone when no
 * token is set, gets the 404 of an unknown route, so its existence is not advertised either.
 */
const metricsAccess = describeMiddleware(
  (req: Request, _res: Response, next: NextFunction): void => {
    if (!config.isProduction) {
      next();
      return;
    }
    const expected = config.metricsToken;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (expected && presented && sameSecret(presented, expected)) {
      next();
      return;
    }
    next(new RouteNotFoundError(req.method, req.path));
  },
  { security: ['metricsToken'], optionalSecurity: true },
);

let openApiDocument: Record<string, unknown> = {};

/** The document served at /api/openapi.json, built once the routes are registered. */
export function publishOpenApiDocument(document: Record<string, unknown>): void {
  openApiDocument = document;
}

/** The document last published by createApp (what GET /api/openapi.json answers). */
export function publishedOpenApiDocument(): Record<string, unknown> {
  return openApiDocument;
}

export const healthRoutes = new ApiRouter('', 'Operations')
  .get('/api/openapi.json', {
      summary: 'This OpenAPI 3.1 document',
      bare: {
        openapi: { type: 'string', const: '3.1.0' },
        info: { type: 'object', additionalProperties: true },
        servers: { type: 'array', items: { type: 'object', additionalProperties: true } },
        tags: { type: 'array', items: { type: 'object', additionalProperties: true } },
        paths: { type: 'object', additionalProperties: true },
        components: { type: 'object', additionalProperties: true },
      },
    }, validate({}), (_req: Request, res: Response) => {
    res.json(openApiDocument);
  })
  .documentOnly('get', '/api/docs', { summary: 'Swagger UI over the OpenAPI document (HTML)', text: 'text/html' })
  .get(
    '/health',
    {
      summary: 'Liveness: the process answers',
      description: 'Touches no dependency: it says the process is alive, whatever the database does.',
      returns: 'success, message, timestamp, uptime',
      bare: { success: { type: 'boolean' }, message: { type: 'string' }, timestamp: { type: 'string', format: 'date-time' }, uptime: { type: 'number' } },
    },
    validate({}),
    (_req: Request, res: Response) => {
      res.json({ success: true, message: 'OK', timestamp: new Date().toISOString(), uptime: process.uptime() });
    },
  )
  .get(
    '/ready',
    {
      summary: 'Readiness: the database (and Redis, where configured) answer',
      description: `One check runs at a time and its answer is reused for ${READY_CHECK_TTL_MS} ms, so asking often costs the database nothing more.`,
      returns: 'checks',
      response: { checks: { type: 'object', additionalProperties: { type: 'string', enum: ['up', 'down'] }, example: { database: 'up', redis: 'up' } } },
      errors: ['503 NOT_READY'],
    },
    validate({}),
    async (_req: Request, res: Response) => {
      const checks = await readiness();
      const ready = Object.values(checks).every((state) => state === 'up');
      if (ready) {
        res.json({ success: true, data: { checks } });
      } else {
        res.status(503).json({ success: false, error: { code: 'NOT_READY', message: 'A dependency is down', details: [checks] } });
      }
    },
  )
  .get(
    '/metrics',
    {
      summary: 'Prometheus metrics: request counts and latency by route, queue depths',
      description: 'In production only with `Authorization: Bearer <METRICS_TOKEN>`; without it, or when no token is set, the answer is 404 ROUTE_NOT_FOUND.',
      text: 'text/plain',
      errors: ['404 ROUTE_NOT_FOUND'],
    },
    metricsAccess,
    validate({}),
    async (_req: Request, res: Response) => {
      res.set('Content-Type', registry.contentType);
      res.send(await registry.metrics());
    },
  );
