import { Router, type RequestHandler } from 'express';
import type Joi from 'joi';
import j2s from 'joi-to-swagger';

/**
 * The OpenAPI document is built from the same joi schemas and middleware that serve the routes:
 * `validate()` and the auth middleware tag themselves with OPENAPI_META, and ApiRouter records
 * every route it mounts. A route that is served is documented; one that is documented is served.
 */
export const OPENAPI_META = Symbol.for('marketplace.openapi');

export interface RouteInputSchemas {
  params?: Joi.ObjectSchema;
  query?: Joi.ObjectSchema;
  body?: Joi.ObjectSchema;
  /** Entity whose NOT_FOUND answers a malformed path parameter (e.g. 'Product'). */
  notFound?: string;
}

export interface MiddlewareMeta {
  schemas?: RouteInputSchemas;
  security?: Array<'bearer' | 'cartToken' | 'stripeSignature'>;
  optionalSecurity?: boolean;
  roles?: string[];
  multipart?: { field: string; maxFiles: number };
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** Status of the success answer; 200 unless said. */
  status?: number;
  /** Error codes this route answers with beyond the common ones, e.g. ['409 SKU_EXISTS']. */
  errors?: string[];
  /** Names of the keys of `data` in the success envelope, for readers of the docs. */
  returns?: string;
  /**
   * The schema of `data`: either properties (`{ cart: {...} }`) or one schema (`{ $ref: … }`);
   * refs point into the component schemas given to buildOpenApiDocument.
   */
  response?: Record<string, unknown>;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface RegisteredRoute {
  method: Method;
  path: string;
  tag: string;
  doc: RouteDoc;
  meta: MiddlewareMeta;
}

const routes: RegisteredRoute[] = [];

function collectMeta(handlers: RequestHandler[]): MiddlewareMeta {
  const meta: MiddlewareMeta = {};
  for (const handler of handlers) {
    const own = (handler as unknown as Record<symbol, MiddlewareMeta | undefined>)[OPENAPI_META];
    if (!own) continue;
    if (own.schemas) meta.schemas = own.schemas;
    if (own.security) meta.security = [...(meta.security ?? []), ...own.security];
    if (own.optionalSecurity) meta.optionalSecurity = true;
    if (own.roles) meta.roles = own.roles;
    if (own.multipart) meta.multipart = own.multipart;
  }
  return meta;
}

/** Tags a middleware with what the docs should say about it. */
export function describeMiddleware<T extends RequestHandler>(handler: T, meta: MiddlewareMeta): T {
  Object.assign(handler, { [OPENAPI_META]: meta });
  return handler;
}

/** An Express router that records each route for the OpenAPI document. */
export class ApiRouter {
  readonly router = Router();

  constructor(
    private readonly basePath: string,
    private readonly tag: string,
  ) {}

  private add(method: Method, path: string, doc: RouteDoc, handlers: RequestHandler[]): this {
    const fullPath = `${this.basePath}${path === '/' ? '' : path}` || '/';
    routes.push({ method, path: fullPath, tag: this.tag, doc, meta: collectMeta(handlers) });
    this.router[method](fullPath, ...handlers);
    return this;
  }

  /** Records a route that is mounted elsewhere (e.g. a static UI under app.use). */
  documentOnly(method: Method, path: string, doc: RouteDoc): this {
    routes.push({ method, path: `${this.basePath}${path}`, tag: this.tag, doc, meta: {} });
    return this;
  }

  get(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    return this.add('get', path, doc, handlers);
  }
  post(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    return this.add('post', path, doc, handlers);
  }
  put(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    return this.add('put', path, doc, handlers);
  }
  patch(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    return this.add('patch', path, doc, handlers);
  }
  delete(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    return this.add('delete', path, doc, handlers);
  }
}

/** The routes registered so far, e.g. for answering 405 on a known path. */
export function registeredRoutes(): readonly RegisteredRoute[] {
  return routes;
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(schema: Joi.ObjectSchema | undefined, location: 'path' | 'query'): object[] {
  if (!schema) return [];
  const { swagger } = j2s(schema);
  const properties = (swagger.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set<string>((swagger.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: propertySchema,
    };
  });
}

const errorEnvelope = {
  type: 'object',
  required: ['success', 'error'],
  properties: {
    success: { type: 'boolean', enum: [false] },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', example: 'VALIDATION_ERROR' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

const successEnvelope = {
  type: 'object',
  required: ['success'],
  properties: {
    success: { type: 'boolean', enum: [true] },
    data: { type: 'object' },
    message: { type: 'string' },
  },
};

const statusText: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad request',
  401: 'Not signed in, or the token is invalid, expired or revoked',
  402: 'Payment required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  422: 'Unprocessable',
  429: 'Rate limit exceeded',
  502: 'Upstream provider error',
  503: 'Unavailable',
};

function operationOf(route: RegisteredRoute): Record<string, unknown> {
  const { doc, meta } = route;
  const successStatus = doc.status ?? 200;
  const envelope = { $ref: '#/components/schemas/SuccessEnvelope' };
  const data = doc.response && ('$ref' in doc.response ? doc.response : { type: 'object', properties: doc.response });
  const responses: Record<string, unknown> = {
    [successStatus]: {
      description: doc.returns ? `${statusText[successStatus] ?? 'OK'}: data holds ${doc.returns}` : (statusText[successStatus] ?? 'OK'),
      content: { 'application/json': { schema: data ? { allOf: [envelope, { type: 'object', properties: { data } }] } : envelope } },
    },
  };
  const errorStatuses = new Set<number>();
  if (meta.schemas?.body || meta.schemas?.query) errorStatuses.add(400);
  if (meta.schemas?.params) errorStatuses.add(404);
  if (meta.security?.includes('bearer') && !meta.optionalSecurity) errorStatuses.add(401);
  if (meta.roles) errorStatuses.add(403);
  for (const error of doc.errors ?? []) {
    const status = Number(error.split(' ')[0]);
    if (status) errorStatuses.add(status);
  }
  for (const status of [...errorStatuses].sort()) {
    const codes = (doc.errors ?? []).filter((error) => error.startsWith(`${status} `)).map((error) => error.slice(4));
    responses[status] = {
      description: codes.length > 0 ? `${statusText[status] ?? 'Error'}: ${codes.join(', ')}` : (statusText[status] ?? 'Error'),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    };
  }

  const descriptionParts = [doc.description];
  if (meta.roles) descriptionParts.push(`Roles: ${meta.roles.join(', ')}.`);
  const operation: Record<string, unknown> = {
    tags: [route.tag],
    summary: doc.summary,
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    parameters: [...parametersOf(meta.schemas?.params, 'path'), ...parametersOf(meta.schemas?.query, 'query')],
    responses,
  };
  const description = descriptionParts.filter(Boolean).join('\n\n');
  if (description) operation.description = description;
  if (meta.multipart) {
    const file = { type: 'string', format: 'binary' };
    operation.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: { [meta.multipart.field]: meta.multipart.maxFiles > 1 ? { type: 'array', maxItems: meta.multipart.maxFiles, items: file } : file },
          },
        },
      },
    };
  } else if (meta.schemas?.body) {
    operation.requestBody = { required: true, content: { 'application/json': { schema: j2s(meta.schemas.body).swagger } } };
  }
  if (meta.security) {
    const security = meta.security.map((name) => ({ [name]: [] }));
    operation.security = meta.optionalSecurity ? [...security, {}] : security;
  }
  return operation;
}

/** The order a reader meets the API in: signing in, the catalog, then the dashboards. */
const TAG_ORDER = [
  'Auth',
  'Catalog: categories',
  'Catalog: products',
  'Catalog: reviews',
  'Uploads',
  'Cart',
  'Orders',
  'Payments',
  'Seller dashboard',
  'Admin: users and sellers',
  'Admin: orders',
  'Operations',
];

export interface OpenApiInfo {
  title: string;
  version: string;
  serverUrl: string;
}

/** The OpenAPI 3 document of every route registered through ApiRouter (plus the operational ones). */
export function buildOpenApiDocument(info: OpenApiInfo, schemas: Record<string, unknown> = {}): Record<string, unknown> {
  const tagOrder = [...new Set([...TAG_ORDER, ...routes.map((route) => route.tag)])];
  const ordered = [...routes].sort((a, b) => tagOrder.indexOf(a.tag) - tagOrder.indexOf(b.tag));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ordered) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operationOf(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Multi-seller marketplace API. Every body is the envelope `{success, data, message}` or `{success: false, error: {code, message, details}}`. Money is a string with two decimals.',
    },
    servers: [{ url: info.serverUrl }],
    tags: tagOrder.filter((tag) => routes.some((route) => route.tag === tag)).map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cartToken: { type: 'apiKey', in: 'header', name: 'X-Cart-Token' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
      },
      schemas: { SuccessEnvelope: successEnvelope, ErrorEnvelope: errorEnvelope, ...schemas },
    },
  };
}
