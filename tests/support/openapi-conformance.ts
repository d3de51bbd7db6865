import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';

/**
 * Holds every answer the tests receive to the published OpenAPI 3.1 document: the status must be
 * one the operation declares, and a JSON body must validate (ajv, JSON Schema 2020-12, formats
 * checked) against that status's schema. Answers of paths the document does not hold (a 404 for an
 * unknown route, /uploads files) are not checked.
 */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown> };
}

interface Operation {
  method: string;
  path: string;
  pattern: RegExp;
  params: number;
}

const DOCUMENT_ID = 'openapi.json';

function pointer(...segments: string[]): string {
  return segments.map((segment) => segment.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export interface Sample {
  path: string;
  method: string;
  status: number;
  body: unknown;
}

/** Answers kept per operation and status for the check at the end of the file; the rest are not checked. */
const KEPT_PER_KEY = 40;

interface Received {
  method: string;
  urlPath: string;
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export class Conformance {
  private readonly problemsFound: string[] = [];
  /** Answers received and not checked yet: checking waits for the end of the file, so it never slows a test down. */
  private readonly received: Received[] = [];
  private readonly keptPerKey = new Map<string, number>();
  private readonly firstBodies = new Map<string, Sample>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true, logger: false });
  private readonly operations: Operation[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, DOCUMENT_ID);
    this.operations = Object.entries(document.paths)
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => ({
          method: method.toUpperCase(),
          path,
          pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
          params: (path.match(/\{/g) ?? []).length,
        })),
      )
      // A fixed segment wins over a parameter (/api/products/search before /api/products/{id}).
      .sort((a, b) => a.params - b.params);
  }

  /** What is wrong with any answer received so far. */
  get problems(): string[] {
    this.checkReceived();
    return this.problemsFound;
  }

  /** The first JSON body received per operation and status. */
  get samples(): Map<string, Sample> {
    this.checkReceived();
    return this.firstBodies;
  }

  /** Checks the answers received since the last call. */
  private checkReceived(): void {
    for (const answer of this.received.splice(0)) {
      this.problemsFound.push(...this.check(answer.method, answer.urlPath, answer.status, answer.contentType, answer.body));
    }
  }

  operationOf(method: string, urlPath: string): Operation | undefined {
    return this.operations.find((operation) => operation.method === method && operation.pattern.test(urlPath));
  }

  /** The validator of one schema of the document, by its JSON pointer. */
  validatorAt(path: string, method: string, ...rest: string[]): ValidateFunction {
    const ref = `${DOCUMENT_ID}#/${pointer('paths', path, method.toLowerCase(), ...rest)}`;
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  /** What is wrong with one answer, as lines (empty when it conforms). */
  check(method: string, urlPath: string, status: number, contentType: string | undefined, body: Buffer): string[] {
    const operation = this.operationOf(method, urlPath);
    if (!operation) return [];
    const at = `${method} ${operation.path} → ${status}`;
    // HTTP's answer to a conditional GET whose ETag still matches (RFC 9110): no body, any GET route.
    if (status === 304 && method === 'GET') return body.length === 0 ? [] : [`${at}: a body with 304`];
    const response = this.document.paths[operation.path][method.toLowerCase()].responses[String(status)];
    if (!response) return [`${at}: status not documented`];
    if (!contentType?.startsWith('application/json') || body.length === 0) return [];
    if (!response.content?.['application/json']) return [`${at}: a JSON body where the document declares none`];
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return [`${at}: the body is not JSON`];
    }
    const key = `${method} ${operation.path} ${status}`;
    if (!this.firstBodies.has(key)) this.firstBodies.set(key, { path: operation.path, method: method.toLowerCase(), status, body: value });
    const validate = this.validatorAt(operation.path, method, 'responses', String(status), 'content', 'application/json', 'schema');
    try {
      if (validate(value)) return [];
    } catch (error) {
      // A body nested deeper than the validator's recursion can follow (a tree of thousands of levels): not checked.
      if (error instanceof RangeError) return [];
      throw error;
    }
    return (validate.errors ?? []).map(
      (error) => `${at}: ${error.instancePath || '(body)'} ${error.message} ${JSON.stringify(error.params)}${error.keyword === 'enum' || error.keyword === 'const' ? ` (got ${JSON.stringify(error.data)})` : ''}`,
    );
  }

  /** `app` behind a recorder that checks every answer it sends. */
  wrap(app: Express): Express {
    const outer = express();
    outer.disable('x-powered-by');
    outer.use((req, res, next) => {
      const chunks: Buffer[] = [];
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      };
      res.write = ((chunk: unknown, ...args: unknown[]) => {
        keep(chunk, args[0]);
        return write(chunk, ...args);
      }) as typeof res.write;
      res.end = ((chunk?: unknown, ...args: unknown[]) => {
        keep(chunk, args[0]);
        return end(chunk, ...args);
      }) as typeof res.end;
      res.on('finish', () => {
        if (req.method === 'HEAD' || req.method === 'OPTIONS') return;
        const urlPath = req.originalUrl.split('?')[0];
        const operation = this.operationOf(req.method, urlPath);
        const key = `${req.method} ${operation?.path ?? urlPath} ${res.statusCode}`;
        const kept = this.keptPerKey.get(key) ?? 0;
        if (kept >= KEPT_PER_KEY) return;
        this.keptPerKey.set(key, kept + 1);
        this.received.push({ method: req.method, urlPath, status: res.statusCode, contentType: res.getHeader('content-type')?.toString(), body: Buffer.concat(chunks) });
      });
      next();
    });
    outer.use(app);
    return outer;
  }
}

/** The problems of every answer received so far, each once, for an assertion at the end of a test file. */
export function uniqueProblems(conformance: Conformance): string[] {
  return [...new Set(conformance.problems)].sort();
}

const SAMPLES_DIR = 'openapi-samples';

/** Keeps a file's bodies (and the document) under the run's data root, for the check at the end of the run. */
export function saveSamples(conformance: Conformance, dataRoot: string): void {
  if (conformance.samples.size === 0) return;
  const dir = path.join(dataRoot, SAMPLES_DIR);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(conformance.document));
  fs.writeFileSync(path.join(dir, `${randomUUID()}.samples.json`), JSON.stringify([...conformance.samples.values()]));
}

/**
 * The end of the run: a client generated from the document by openapi-typescript, and every body
 * the suite received (the first per operation and status of each file), assigned to the type the
 * client gives it, compiled by tsc in strict mode. Throws tsc's report when a body does not fit.
 */
export function typeCheckGeneratedClient(dataRoot: string, projectRoot: string): number {
  const dir = path.join(dataRoot, SAMPLES_DIR);
  if (!fs.existsSync(path.join(dir, 'openapi.json'))) return 0;
  const samples = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.samples.json'))
    .flatMap((name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Sample[]);
  const bin = (name: string) => path.join(projectRoot, 'node_modules', '.bin', name);
  execFileSync(bin('openapi-typescript'), ['openapi.json', '-o', 'api.ts'], { cwd: dir, stdio: 'pipe' });
  const lines = samples.map(
    (sample, index) =>
      `export const sample${index}: paths[${JSON.stringify(sample.path)}][${JSON.stringify(sample.method)}]['responses'][${sample.status}]['content']['application/json'] = ${JSON.stringify(sample.body)};`,
  );
  fs.writeFileSync(path.join(dir, 'bodies.ts'), `import type { paths } from './api';\n${lines.join('\n')}\n`);
  try {
    execFileSync(bin('tsc'), ['--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--skipLibCheck', 'bodies.ts'], { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    const output = String((error as { stdout?: Buffer }).stdout ?? error).slice(0, 6000);
    throw new Error(`Bodies the suite received do not type-check against the client openapi-typescript generates:\n${output}`);
  }
  return samples.length;
}
