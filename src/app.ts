import path from 'node:path';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { config } from './platform/config';
import { errorHandler, notFoundHandler } from './platform/http/error-handler.middleware';
import { configureRateLimits } from './platform/http/rate-limit.middleware';
import { requestId, requestLog } from './platform/http/request-context.middleware';
import { readYourWrites } from './platform/http/read-your-writes.middleware';
import { buildApiRouter } from './api-router';
import { RESPONSE_SCHEMAS } from './platform/http/response.schemas';
import { publishOpenApiDocument } from './platform/http/health.routes';
import { buildOpenApiDocument, registeredRoutes } from './platform/http/openapi';
import { AppError } from './platform/utils/errors';
import packageJson from '../package.json';


function corsOptions(): cors.CorsOptions {
  const allowed = new Set(config.allowedOrigins);
  return {
    // An origin that is not allowed gets no CORS headers (the browser blocks it), never an error.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
    maxAge: 600,
  };
}

/** Answers 405 for a known path with another method, before the 404 fallback. */
function methodNotAllowed(): express.RequestHandler {
  const patterns = registeredRoutes().map((route) => ({
    method: route.method.toUpperCase(),
    pattern: new RegExp(`^${route.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`),
  }));
  return (req, _res, next) => {
    const known = patterns.filter(({ pattern }) => pattern.test(req.path));
    if (known.length > 0 && req.method !== 'OPTIONS') {
      const allow = [...new Set(known.map((route) => route.method))].join(', ');
      next(new AppError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}`, { headers: { Allow: allow } }));
      return;
    }
    next();
  };
}

/**
 * What every request meets before any route, after its id: the security headers, CORS, the bodies'
 * size limits and the per-address rate limit. Also the whole of the bench's Express floor
 * (bench/express-floor.ts), which measures what Express and these cost without the API's own work.
 */
export function useHardening(app: Express): void {
  app.disable('x-powered-by');
  // Which hop's address is the client's: what the rate limit counts by.
  app.set('trust proxy', config.trustProxy);
  // Over plain http (development), upgrading subresources to https would break /api/docs.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: config.isProduction ? [] : null } } }));
  app.use(cors(corsOptions()));
  // Stripe signs the exact bytes it sends: that route gets them as a Buffer in req.body, every other one JSON.
  app.use('/api/webhooks/stripe', express.raw({ type: '*/*', limit: '1mb' }));
  app.use(express.json({ limit: config.jsonBodyLimit }));
  app.use('/api', configureRateLimits());
}

/** The Express application: middleware in the order a request meets it. */
export function createApp(): Express {
  const app = express();

  app.use(requestId);
  app.use(requestLog);
  useHardening(app);
  const router = buildApiRouter();

  const openApiDocument = buildOpenApiDocument({ title: `${config.companyName} API`, version: packageJson.version, serverUrl: config.appUrl }, RESPONSE_SCHEMAS);
  publishOpenApiDocument(openApiDocument);
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(openApiDocument, { customSiteTitle: `${config.companyName} API` }));
  app.use(
    '/uploads',
    express.static(path.join(config.dataDir, 'uploads'), {
      index: false,
      dotfiles: 'deny',
      fallthrough: true,
      maxAge: '7d',
      // Uploaded images are shown by storefronts on other origins: helmet's same-origin
      // policy, right for the API, would make browsers refuse them there.
      setHeaders: (res) => res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin'),
    }),
  );

  // After the body is read: the routing facts it sets must reach the handlers' statements.
  app.use(readYourWrites());
  app.use(router);
  app.use(methodNotAllowed());
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
