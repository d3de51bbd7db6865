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
  /** The schemas a controller's types (`handler()`) or a cache refresh were written against; checked, not documented. */
  reads?: RouteInputSchemas;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** Status of the success answer; 200 unless said (several when it depends, e.g. created or found). */
  status?: number | number[];
  /** Error codes this route answers with beyond the common ones, e.g. ['409 SKU_EXISTS']. */
  errors?: string[];
  /** Names of the keys of `data` in the success envelope, for readers of the docs. */
  returns?: string;
  /**
   * The schema of `data`: either properties (`{ cart: {...} }`) or one schema (`{ $ref: … }`);
   * refs point into the component schemas given to buildOpenApiDocument.
   */
  response?: Record<string, unknown>;
  /** Keys of `response` (given as properties) that are not always sent. */
  optional?: string[];
  /** Properties of a success body that is not the envelope (the liveness probe's). */
  bare?: Record<string, unknown>;
  /** Media type of a success body that is not JSON (Prometheus' text format). */
  text?: string;
  /** A request body the route accepts as it is: Swagger UI's "Try it out" starts from it. */
  example?: unknown;
  /** Request headers the route reads (beyond authentication). */
  requestHeaders?: Array<{ name: string; description: string; schema: Record<string, unknown>; required?: boolean }>;
  /** Headers of the success answer beyond the common ones (X-Request-Id, RateLimit-*). */
  responseHeaders?: Record<string, Record<string, unknown>>;
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

function metaOf(handler: RequestHandler): MiddlewareMeta | undefined {
  return (handler as unknown as Record<symbol, MiddlewareMeta | undefined>)[OPENAPI_META];
}

function collectMeta(handlers: RequestHandler[]): MiddlewareMeta {
  const meta: MiddlewareMeta = {};
  for (const handler of handlers) {
    const own = metaOf(handler);
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
  /** The full paths of its routes, in the order they were added. */
  readonly paths: string[] = [];

  constructor(
    private readonly basePath: string,
    private readonly tag: string,
  ) {}

  private add(method: Method, path: string, doc: RouteDoc, handlers: RequestHandler[]): this {
    const fullPath = `${this.basePath}${path === '/' ? '' : path}` || '/';
    const meta = collectMeta(handlers);
    // validate() is where a body or query a route does not read is refused: a route without it would take anything.
    if (!meta.schemas) throw new Error(`${method.toUpperCase()} ${fullPath} has no validate(): every route declares its input, validate({}) for none`);
    // Each controller (handler()) and cache refresh names the schemas it was typed against.
    const reads = handlers.map((handler) => metaOf(handler)?.reads).filter((schemas) => schemas !== undefined);
    if (reads.some((schemas) => schemas !== meta.schemas)) {
      throw new Error(`${method.toUpperCase()} ${fullPath} validates other schemas than its controller (or its cache's refresh) reads: validate(), handler() and the refresh take the same object`);
    }
    routes.push({ method, path: fullPath, tag: this.tag, doc, meta });
    this.paths.push(fullPath);
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
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum', 'const']);

/**
 * joi-to-swagger writes OpenAPI 3.0 schemas; the document is OpenAPI 3.1, whose schemas are JSON
 * Schema 2020-12 (what ajv and openapi-typescript read):
 * - `nullable: true` becomes `null` among the types (and the enum), or a `{type: 'null'}` branch;
 * - a pattern of a regex with flags loses the `/` joi-to-swagger leaves at its end (`^…$/`);
 * - a one-branch `oneOf`/`anyOf` (joi `when` and `alternatives` of one) is merged into its schema.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item));
  if (!node || typeof node !== 'object') return node;
  let schema: SchemaNode = Object.fromEntries(
    Object.entries(node as SchemaNode).map(([key, value]) => [key, DATA_KEYS.has(key) ? value : toJsonSchema(value)]),
  );
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length === 1) {
      const { [key]: _single, ...rest } = schema;
      schema = { ...(branches[0] as SchemaNode), ...rest };
    }
  }
  if (typeof schema.pattern === 'string') schema.pattern = schema.pattern.replace(/(?<!\\)\/$/, '');
  if (schema.nullable === true) {
    const { nullable: _nullable, ...rest } = schema;
    schema = rest;
    if (typeof rest.type === 'string') {
      schema.type = [rest.type, 'null'];
      if (Array.isArray(rest.enum) && !rest.enum.includes(null)) schema.enum = [...(rest.enum as unknown[]), null];
    } else if (Array.isArray(rest.anyOf) || Array.isArray(rest.oneOf)) {
      const key = Array.isArray(rest.anyOf) ? 'anyOf' : 'oneOf';
      schema[key] = [...(rest[key] as SchemaNode[]), { type: 'null' }];
    } else if (typeof rest.$ref === 'string') {
      const { $ref, ...siblings } = rest;
      schema = { ...siblings, anyOf: [{ $ref }, { type: 'null' }] };
    }
  }
  return schema;
}

/** An object of exactly these properties (the required ones always present). */
export function objectSchema(properties: Record<string, unknown>, required: string[] = Object.keys(properties)): SchemaNode {
  return { type: 'object', required, properties, additionalProperties: false };
}

const uuidSchema = { type: 'string', format: 'uuid' };

/** The `details` an error may carry: the fields a validation refused, or what a conflict is about. */
const ERROR_DETAIL_SCHEMAS: Record<string, SchemaNode> = {
  FieldError: { description: 'A refused input (VALIDATION_ERROR, RESOURCE_EXISTS)', ...objectSchema({ field: { type: 'string' }, message: { type: 'string' } }) },
  StockShortfall: {
    description: 'A variant the cart asks more of than there is (INSUFFICIENT_STOCK)',
    ...objectSchema({ productId: uuidSchema, variantId: uuidSchema, name: { type: 'string' }, requested: { type: 'integer' }, available: { type: 'integer' } }),
  },
  UnavailableProduct: {
    description: 'A product or variant no longer for sale (PRODUCT_UNAVAILABLE)',
    ...objectSchema({ productId: uuidSchema, variantId: uuidSchema, name: { type: 'string' } }),
  },
  VariantProblem: {
    description:
      'Which variant of the request (its index in `variants`, its id, or "new") is wrong (VARIANT_OPTIONS_MISMATCH, VARIANT_EXISTS, SKU_EXISTS): ' +
      'the option or value it names, the options it misses, the index of the variant it repeats, or the SKU',
    ...objectSchema(
      {
        variant: { type: ['integer', 'string'] },
        option: { type: 'string' },
        value: { type: 'string' },
        missing: { type: 'array', items: { type: 'string' } },
        sameAs: { type: 'integer' },
        sku: { type: 'string' },
      },
      ['variant'],
    ),
  },
  UploadUsage: {
    description: 'The products an image is still used by, those the caller may see (UPLOAD_IN_USE)',
    ...objectSchema({ productCount: { type: 'integer' }, productIds: { type: 'array', items: uuidSchema } }),
  },
  ShippingUnavailable: {
    description: 'A seller of the cart with no shipping rate (or not the chosen one) covering the country, and its lines (SHIPPING_UNAVAILABLE)',
    ...objectSchema({ sellerId: uuidSchema, itemIds: { type: 'array', items: uuidSchema }, country: { type: 'string' } }),
  },
  PromoRefusal: {
    description: 'Why a code does not apply (PROMO_NOT_APPLICABLE), with the minimum subtotal when that is why',
    ...objectSchema(
      {
        code: { type: 'string' },
        reason: { type: 'string', enum: ['inactive', 'not_started', 'ended', 'used_up', 'already_used', 'minimum_subtotal', 'no_eligible_line'] },
        minSubtotal: { type: 'string', pattern: '^\\d+\\.\\d{2}$', description: "The code's minimum subtotal of eligible lines" },
      },
      ['code', 'reason'],
    ),
  },
  CategoryUsage: {
    description: 'What still uses a category (CATEGORY_NOT_EMPTY): it has sub-categories, products, or both',
    ...objectSchema({ children: { type: 'boolean' }, products: { type: 'boolean' } }),
  },
};

/** The error envelope of one status: its `code` is one of `codes`. */
function errorEnvelopeOf(codes: string[]): SchemaNode {
  const error = objectSchema(
    {
      code: { type: 'string', enum: codes },
      message: { type: 'string' },
      details: { type: 'array', items: { anyOf: Object.keys(ERROR_DETAIL_SCHEMAS).map((name) => ({ $ref: `#/components/schemas/${name}` })) } },
      requestId: { type: 'string', description: 'On 5xx answers: quote it when reporting the problem' },
    },
    ['code', 'message'],
  );
  return objectSchema({ success: { type: 'boolean', const: false }, error });
}

/** The success envelope around `data` (exactly that `data`, always sent). */
function successEnvelopeOf(data: SchemaNode | undefined): SchemaNode {
  return objectSchema(
    {
      success: { type: 'boolean', const: true },
      data: data ?? { ...objectSchema({}), description: 'Nothing: the message says what happened' },
      message: { type: 'string' },
    },
    ['success', 'data'],
  );
}

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
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Rate limit exceeded',
  500: 'Internal error',
  502: 'Upstream provider error',
  503: 'Unavailable',
};

/** Codes any route guarded by validate() may answer 400 with: its input, or a body the JSON parser refused. */
const INPUT_CODES = ['VALIDATION_ERROR', 'INVALID_JSON', 'INVALID_BODY', 'INVALID_URL', 'REQUEST_ABORTED', 'INVALID_INPUT', 'INVALID_REFERENCE'];
const TOKEN_CODES = ['NO_TOKEN', 'INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED'];
const ACCOUNT_CODES = ['ACCOUNT_SUSPENDED', 'ACCOUNT_PENDING', 'ACCOUNT_REJECTED'];

const header = (description: string, schema: SchemaNode = { type: 'string' }): SchemaNode => ({ description, schema });
const REQUEST_ID_HEADER = header('The request id: the one sent in X-Request-Id when it is sane, else a new one');
const RATE_LIMIT_HEADERS: Record<string, SchemaNode> = {
  'RateLimit-Limit': header('Requests allowed in the window', { type: 'integer' }),
  'RateLimit-Remaining': header('Requests left in the window', { type: 'integer' }),
  'RateLimit-Reset': header('Seconds until the window resets', { type: 'integer' }),
};
const RETRY_AFTER_HEADER = header('Seconds to wait before trying again', { type: 'integer' });

function entityCode(entity: string): string {
  return `${entity.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_NOT_FOUND`;
}

function operationOf(route: RegisteredRoute): Record<string, unknown> {
  const { doc, meta } = route;
  const successStatuses = Array.isArray(doc.status) ? doc.status : [doc.status ?? 200];
  const rateLimited = route.path.startsWith('/api/') && !route.path.startsWith('/api/webhooks/');
  const commonHeaders: Record<string, SchemaNode> = { 'X-Request-Id': REQUEST_ID_HEADER, ...(rateLimited ? RATE_LIMIT_HEADERS : {}) };
  const data = doc.response && ('$ref' in doc.response ? doc.response : objectSchema(doc.response, Object.keys(doc.response).filter((key) => !doc.optional?.includes(key))));
  let content: Record<string, unknown>;
  if (doc.text) content = { [doc.text]: { schema: { type: 'string' } } };
  else if (doc.bare) content = { 'application/json': { schema: objectSchema(doc.bare) } };
  else content = { 'application/json': { schema: successEnvelopeOf(data) } };
  const responses: Record<string, unknown> = {};
  for (const successStatus of successStatuses) {
    responses[successStatus] = {
      description: doc.returns ? `${statusText[successStatus] ?? 'OK'}: ${doc.bare ? 'the body holds' : 'data holds'} ${doc.returns}` : (statusText[successStatus] ?? 'OK'),
      headers: { ...commonHeaders, ...(doc.responseHeaders ?? {}) },
      content,
    };
  }
  const codes = new Map<number, Set<string>>();
  const add = (status: number, ...list: string[]) => {
    const set = codes.get(status) ?? new Set<string>();
    for (const code of list) set.add(code);
    codes.set(status, set);
  };
  // validate() refuses unknown query parameters and NUL characters on every route it guards, even without schemas.
  if (meta.schemas) add(400, ...INPUT_CODES);
  if (meta.schemas?.params) add(404, entityCode(meta.schemas.notFound ?? 'Resource'));
  if (meta.security?.includes('bearer') || meta.security?.includes('cartToken')) {
    // A token that is sent is checked, also where one is optional.
    add(401, ...TOKEN_CODES);
    add(403, ...ACCOUNT_CODES);
  }
  if (meta.roles) add(403, 'INSUFFICIENT_PERMISSIONS');
  if (meta.schemas?.body) {
    add(413, 'PAYLOAD_TOO_LARGE');
    add(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  if (rateLimited) add(429, 'RATE_LIMIT_EXCEEDED');
  add(500, 'INTERNAL_ERROR');
  if (route.path.startsWith('/api/')) add(503, 'TRY_AGAIN');
  for (const error of doc.errors ?? []) {
    const [status, code] = error.split(' ');
    add(Number(status), code);
  }
  for (const status of [...codes.keys()].sort()) {
    const list = [...(codes.get(status) ?? [])];
    const headers: Record<string, SchemaNode> = { 'X-Request-Id': REQUEST_ID_HEADER };
    if (status === 429) Object.assign(headers, RATE_LIMIT_HEADERS, { 'Retry-After': RETRY_AFTER_HEADER });
    if (status === 503) headers['Retry-After'] = RETRY_AFTER_HEADER;
    responses[status] = {
      description: `${statusText[status] ?? 'Error'}: ${list.join(', ')}`,
      headers,
      content: { 'application/json': { schema: errorEnvelopeOf(list) } },
    };
  }

  const descriptionParts = [doc.description];
  if (meta.roles) descriptionParts.push(`Roles: ${meta.roles.join(', ')}.`);
  const headerParameters = [...(doc.requestHeaders ?? [])];
  if (meta.security?.includes('cartToken')) {
    headerParameters.push({ name: 'X-Cart-Token', description: "A guest's cart token (from POST /api/cart); signed-in users send their access token instead", schema: { type: 'string' } });
  }
  const operation: Record<string, unknown> = {
    tags: [route.tag],
    summary: doc.summary,
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    parameters: [
      ...parametersOf(meta.schemas?.params, 'path'),
      ...parametersOf(meta.schemas?.query, 'query'),
      ...headerParameters.map(({ name, description, schema, required }) => ({ name, in: 'header', required: required ?? false, description, schema })),
    ],
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
    const media: Record<string, unknown> = { schema: j2s(meta.schemas.body).swagger };
    if (doc.example !== undefined) media.example = doc.example;
    operation.requestBody = { required: true, content: { 'application/json': media } };
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
  'Address book': "A customer's saved addresses (at most 20), defaults for shipping and billing; checkout ships to one by id.",
  'Catalog: categories': 'The category tree (at most 8 levels). Reading is public; admins write.',
  'Catalog: products': 'Products of every seller: listing, full-text search, detail. Sellers write their own; admins any.',
  'Catalog: reviews': 'Reviews by customers who received the product; they update the product rating.',
  Uploads: 'Images for products, avatars and store logos, checked by decoding them.',
  Cart: 'The cart of a signed-in user, or of a guest through X-Cart-Token; merged at sign-in.',
  Orders: 'Checkout (stock taken atomically, Idempotency-Key), order history and cancellation.',
  Payments: 'Stripe PaymentIntents (or the manual provider) and the signed Stripe webhook.',
  Returns: 'Returns of delivered units: asked by the customer, decided and received by the seller or an admin, refunded through the payment provider.',
  'Seller dashboard': "A seller's store profile, products, their lines of customers' orders, and their money.",
  'Admin: users and sellers': 'Accounts: suspension, seller approval and rejection.',
  'Admin: orders': 'Every order: status moves, manual payments, refunds, transactions.',
  'Admin: finance': 'Seller payouts and the sales statistics, by the money rules of the contract.',
  'Admin: pricing': "Tax rates by destination and the platform's promotion codes.",
  Webhooks: 'Outgoing webhooks: endpoints that receive signed events (Standard Webhooks), their secrets and delivery logs.',
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

/** The OpenAPI 3.1 document of every route registered through ApiRouter (plus the operational ones). */
export function buildOpenApiDocument(info: OpenApiInfo, schemas: Record<string, unknown> = {}): Record<string, unknown> {
  const tagOrder = [...new Set([...TAG_ORDER, ...routes.map((route) => route.tag)])];
  const ordered = [...routes].sort((a, b) => tagOrder.indexOf(a.tag) - tagOrder.indexOf(b.tag));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ordered) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operationOf(route);
  }
  const componentSchemas: Record<string, unknown> = { ...ERROR_DETAIL_SCHEMAS, ...schemas };
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Multi-seller marketplace API. Every body is the envelope `{success, data, message}` or `{success: false, error: {code, message, details}}`. Money is a string with two decimals.',
      license: { name: packageJson.license, url: `https://spdx.org/licenses/${packageJson.license}.html` },
    },
    servers: [{ url: relativeServerUrl(info.serverUrl), description: 'This server, whatever its origin' }],
    tags: tagOrder.filter((tag) => routes.some((route) => route.tag === tag)).map((name) => (TAGS[name] ? { name, description: TAGS[name] } : { name })),
    paths: toJsonSchema(paths),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cartToken: { type: 'apiKey', in: 'header', name: 'X-Cart-Token' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; required by /metrics in production' },
      },
      schemas: toJsonSchema(componentSchemas),
    },
  };
}
