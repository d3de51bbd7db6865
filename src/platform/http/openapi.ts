import { Router, type RequestHandler } from 'express';
import type Joi from 'joi';
import j2s from 'joi-to-swagger';
import packageJson from '../../../package.json';

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
  /** The body is raw bytes that the route checks itself (a signature): validate() leaves it alone. */
  rawBody?: true;
}

export interface MiddlewareMeta {
  schemas?: RouteInputSchemas;
  security?: Array<'bearer' | 'cartToken' | 'stripeSignature' | 'metricsToken'>;
  optionalSecurity?: boolean;
  roles?: string[];
  multipart?: { field: string; maxFiles: number };
  /** The schemas a controller's types were written against (`handler()`); not documented. */
  reads?: RouteInputSchemas;
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
  /** Properties of a success body that is not the envelope (the liveness probe's). */
  bare?: Record<string, unknown>;
  /** Media type of a success body that is not JSON (Prometheus' text format). */
  text?: string;
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
    if (own.reads) meta.reads = own.reads;
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
    const meta = collectMeta(handlers);
    // validate() is where a body or query a route does not read is refused: a route without it would take anything.
    if (!meta.schemas) throw new Error(`${method.toUpperCase()} ${fullPath} has no validate(): every route declares its input, validate({}) for none`);
    if (meta.reads && meta.reads !== meta.schemas) {
      throw new Error(`${method.toUpperCase()} ${fullPath} validates other schemas than its controller reads: validate() and handler() take the same object`);
    }
    routes.push({ method, path: fullPath, tag: this.tag, doc, meta });
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

/**
 * A params schema may rename a path parameter for its controller (`.rename('id', 'idOrSlug')`):
 * clients know the parameter by its name in the path, so the document uses that one.
 */
function pathNamesOf(schema: Joi.ObjectSchema): Map<string, string> {
  const renames = (schema.describe() as { renames?: Array<{ from: string; to: string }> }).renames ?? [];
  return new Map(renames.map(({ from, to }) => [to, from]));
}

function parametersOf(schema: Joi.ObjectSchema | undefined, location: 'path' | 'query'): object[] {
  if (!schema) return [];
  const { swagger } = j2s(schema);
  const properties = (swagger.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set<string>((swagger.required as string[] | undefined) ?? []);
  const pathNames = location === 'path' ? pathNamesOf(schema) : new Map<string, string>();
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name: pathNames.get(name) ?? name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: propertySchema,
    };
  });
}

type SchemaNode = Record<string, unknown>;

/** Keys whose values are data (examples, defaults, enums), not schemas: left as they are. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum']);

/**
 * Makes joi-to-swagger's output (and hand-written schemas) valid OpenAPI 3.0 for strict tools:
 * - `nullable` only means something beside `type` (3.0.3): on `anyOf`/`oneOf` it goes into each
 *   branch, on a `$ref` the ref is wrapped in `allOf` beside the referenced schema's type;
 * - a `$ref` with siblings (which 3.0 ignores) is wrapped in `allOf`;
 * - a one-branch `oneOf`/`anyOf` (joi `when` and `alternatives` of one) is merged into its schema.
 */
function normalizeSchema(node: unknown, typeOfRef: (ref: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => normalizeSchema(item, typeOfRef));
  if (!node || typeof node !== 'object') return node;
  let schema: SchemaNode = Object.fromEntries(
    Object.entries(node as SchemaNode).map(([key, value]) => [key, DATA_KEYS.has(key) ? value : normalizeSchema(value, typeOfRef)]),
  );
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length === 1) {
      const { [key]: _single, ...rest } = schema;
      schema = { ...(branches[0] as SchemaNode), ...rest };
    }
  }
  const nullableRef = (ref: string, rest: SchemaNode): SchemaNode => ({ ...rest, type: typeOfRef(ref), nullable: true, allOf: [{ $ref: ref }] });
  if (schema.nullable === true && schema.type === undefined) {
    const { nullable: _nullable, ...rest } = schema;
    const key = Array.isArray(rest.anyOf) ? 'anyOf' : Array.isArray(rest.oneOf) ? 'oneOf' : undefined;
    if (key) {
      schema = {
        ...rest,
        [key]: (rest[key] as SchemaNode[]).map((branch) =>
          typeof branch.$ref === 'string' ? nullableRef(branch.$ref, {}) : { ...branch, nullable: true },
        ),
      };
    } else if (typeof rest.$ref === 'string') {
      const { $ref, ...siblings } = rest;
      schema = nullableRef($ref as string, siblings);
    }
  }
  if (typeof schema.$ref === 'string' && Object.keys(schema).length > 1) {
    const { $ref, ...siblings } = schema;
    schema = { ...siblings, allOf: [{ $ref }] };
  }
  return schema;
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
  let content: Record<string, unknown>;
  if (doc.text) content = { [doc.text]: { schema: { type: 'string' } } };
  else if (doc.bare) content = { 'application/json': { schema: { type: 'object', properties: doc.bare } } };
  else content = { 'application/json': { schema: data ? { allOf: [envelope, { type: 'object', required: ['data'], properties: { data } }] } : envelope } };
  const responses: Record<string, unknown> = {
    [successStatus]: {
      description: doc.returns ? `${statusText[successStatus] ?? 'OK'}: ${doc.bare ? 'the body holds' : 'data holds'} ${doc.returns}` : (statusText[successStatus] ?? 'OK'),
      content,
    },
  };
  const errorStatuses = new Set<number>();
  // validate() refuses unknown query parameters and NUL characters on every route it guards, even without schemas.
  if (meta.schemas) errorStatuses.add(400);
  if (meta.schemas?.params) errorStatuses.add(404);
  if (meta.security?.includes('bearer') && !meta.optionalSecurity) errorStatuses.add(401);
  if (meta.roles) errorStatuses.add(403);
  // app.ts puts every /api route but Stripe's webhook under the general rate limit.
  if (route.path.startsWith('/api/') && !route.path.startsWith('/api/webhooks/')) errorStatuses.add(429);
  for (const error of doc.errors ?? []) {
    const status = Number(error.split(' ')[0]);
    if (status) errorStatuses.add(status);
  }
  for (const status of [...errorStatuses].sort()) {
    const codes = (doc.errors ?? []).filter((error) => error.startsWith(`${status} `)).map((error) => error.slice(4));
    if (status === 429 && codes.length === 0) codes.push('RATE_LIMIT_EXCEEDED');
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
  } else {
    // Public: said explicitly, so that tools do not read the absence as "not thought about".
    operation.security = [];
  }
  return operation;
}

/** The order a reader meets the API in (signing in, the catalog, then the dashboards), with what each group is. */
const TAGS: Record<string, string> = {
  Auth: 'Registration, sign-in, sessions (short-lived access tokens, rotated refresh tokens), password and email flows.',
  'Catalog: categories': 'The category tree (at most 8 levels). Reading is public; admins write.',
  'Catalog: products': 'Products of every seller: listing, full-text search, detail. Sellers write their own; admins any.',
  'Catalog: reviews': 'Reviews by customers who received the product; they update the product rating.',
  Uploads: 'Images for products, avatars and store logos, checked by decoding them.',
  Cart: 'The cart of a signed-in user, or of a guest through X-Cart-Token; merged at sign-in.',
  Orders: 'Checkout (stock taken atomically, Idempotency-Key), order history and cancellation.',
  Payments: 'Stripe PaymentIntents (or the manual provider) and the signed Stripe webhook.',
  'Seller dashboard': "A seller's store profile, products, their lines of customers' orders, and their money.",
  'Admin: users and sellers': 'Accounts: suspension, seller approval and rejection.',
  'Admin: orders': 'Every order: status moves, manual payments, refunds, transactions.',
  'Admin: finance': 'Seller payouts and the sales statistics, by the money rules of the contract.',
  Operations: 'Probes, metrics and this document.',
};
const TAG_ORDER = Object.keys(TAGS);

export interface OpenApiInfo {
  title: string;
  version: string;
  /**
   * The public URL of the API. Only its path goes into the document: a relative server URL makes
   * Swagger UI's "Try it out" call the origin the page was loaded from, wherever it is served
   * (localhost, a preview domain, behind a proxy), instead of one fixed origin that CSP and CORS
   * refuse from anywhere else.
   */
  serverUrl?: string;
}

function relativeServerUrl(serverUrl: string | undefined): string {
  if (!serverUrl) return '/';
  return new URL(serverUrl, 'http://relative.invalid').pathname.replace(/(.)\/$/, '$1');
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
  const componentSchemas: Record<string, unknown> = { SuccessEnvelope: successEnvelope, ErrorEnvelope: errorEnvelope, ...schemas };
  const typeOfRef = (ref: string): string => {
    const target = componentSchemas[ref.replace('#/components/schemas/', '')] as { type?: string } | undefined;
    return target?.type ?? 'object';
  };
  return {
    openapi: '3.0.3',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Multi-seller marketplace API. Every body is the envelope `{success, data, message}` or `{success: false, error: {code, message, details}}`. Money is a string with two decimals.',
      license: { name: packageJson.license, url: `https://spdx.org/licenses/${packageJson.license}.html` },
    },
    servers: [{ url: relativeServerUrl(info.serverUrl), description: 'This server, whatever its origin' }],
    tags: tagOrder.filter((tag) => routes.some((route) => route.tag === tag)).map((name) => (TAGS[name] ? { name, description: TAGS[name] } : { name })),
    paths: normalizeSchema(paths, typeOfRef),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cartToken: { type: 'apiKey', in: 'header', name: 'X-Cart-Token' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; required by /metrics in production' },
      },
      schemas: normalizeSchema(componentSchemas, typeOfRef),
    },
  };
}
