import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { logger } from '../utils/logger';
import { observeRequest } from '../utils/metrics';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (the client's X-Request-Id when it is sane) and echoes it back. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  req.requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.validated = {};
  res.setHeader('X-Request-Id', req.requestId);
  next();
};

/** The route template ("/api/products/:idOrSlug"), so that metrics and logs do not explode per id. */
export function routeTemplate(req: Parameters<RequestHandler>[0]): string {
  const routePath = (req.route as { path?: string } | undefined)?.path;
  if (typeof routePath === 'string') return `${req.baseUrl}${routePath === '/' && req.baseUrl ? '' : routePath}`;
  return 'unmatched';
}

/** One log line and one metrics sample per request; never a body, a token or a password. */
export const requestLog: RequestHandler = (req, res, next) => {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const route = routeTemplate(req);
    observeRequest(req.method, route, res.statusCode, durationMs / 1000);
    logger.info('request', {
      requestId: req.requestId,
      method: req.method,
      route,
      status: res.statusCode,
      durationMs: Math.round(durationMs * 10) / 10,
      userId: req.auth?.user.id,
    });
  });
  next();
};
