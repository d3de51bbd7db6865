/**
 * Checks a JSON value against a schema of the published OpenAPI 3.0 document: types, `nullable`,
 * `required`, `enum`, `pattern`, `$ref`, `allOf`/`anyOf`/`oneOf`, and no property the schema does
 * not name (unless it allows additional ones). Enough to hold the documented response shapes to
 * what the routes really answer; not a general validator.
 */
type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: { schemas: Record<string, Schema> };
}

function resolve(schema: Schema, doc: OpenApiDocument): Schema {
  let current = schema;
  while (typeof current.$ref === 'string') current = doc.components.schemas[current.$ref.replace('#/components/schemas/', '')];
  return current;
}

/** Property names a schema (with its allOf parts) names, or undefined when any property is allowed. */
function namedProperties(schema: Schema, doc: OpenApiDocument): Set<string> | undefined {
  const resolved = resolve(schema, doc);
  if (resolved.additionalProperties) return undefined;
  const names = new Set(Object.keys((resolved.properties as Schema | undefined) ?? {}));
  for (const part of (resolved.allOf as Schema[] | undefined) ?? []) {
    const inner = namedProperties(part, doc);
    if (!inner) return undefined;
    for (const name of inner) names.add(name);
  }
  return names;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function violations(value: unknown, schema: Schema, doc: OpenApiDocument, at = 'data'): string[] {
  const resolved = resolve(schema, doc);
  if (value === null) return resolved.nullable === true ? [] : [`${at} is null, which the document does not allow`];
  const problems: string[] = [];
  for (const part of (resolved.allOf as Schema[] | undefined) ?? []) problems.push(...violations(value, part, doc, at));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = resolved[key] as Schema[] | undefined;
    if (branches && !branches.some((branch) => violations(value, branch, doc, at).length === 0)) {
      problems.push(`${at} matches none of the ${key} branches`);
    }
  }
  const type = resolved.type as string | undefined;
  const actual = typeOf(value);
  if (type && actual !== type && !(type === 'number' && actual === 'integer')) return [...problems, `${at} is ${actual}, documented as ${type}`];
  if (Array.isArray(resolved.enum) && !resolved.enum.includes(value)) problems.push(`${at} is ${JSON.stringify(value)}, not one of ${JSON.stringify(resolved.enum)}`);
  if (typeof value === 'string' && typeof resolved.pattern === 'string' && !new RegExp(resolved.pattern).test(value)) {
    problems.push(`${at} is ${JSON.stringify(value)}, which does not match ${resolved.pattern}`);
  }
  if (actual === 'array' && resolved.items) {
    (value as unknown[]).forEach((item, index) => problems.push(...violations(item, resolved.items as Schema, doc, `${at}[${index}]`)));
  }
  if (actual === 'object') {
    const record = value as Record<string, unknown>;
    for (const name of (resolved.required as string[] | undefined) ?? []) {
      if (!(name in record)) problems.push(`${at}.${name} is documented as required but missing`);
    }
    const properties = (resolved.properties as Record<string, Schema> | undefined) ?? {};
    for (const [name, inner] of Object.entries(properties)) {
      if (name in record) problems.push(...violations(record[name], inner, doc, `${at}.${name}`));
    }
    const named = namedProperties(resolved, doc);
    if (named && (named.size > 0 || resolved.type === 'object')) {
      for (const name of Object.keys(record)) if (!named.has(name)) problems.push(`${at}.${name} is not documented`);
    }
  }
  return problems;
}

/** The documented schema of `data` in the success answer of an operation. */
export function dataSchemaOf(doc: OpenApiDocument, method: string, path: string, status: number): Schema {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not in the document`);
  const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method} ${path} documents no JSON answer for ${status}`);
  const parts = (schema.allOf as Schema[] | undefined) ?? [];
  const data = parts.map((part) => (part.properties as Record<string, Schema> | undefined)?.data).find(Boolean);
  if (!data) throw new Error(`${method} ${path} documents no schema for data (${status})`);
  return data;
}
