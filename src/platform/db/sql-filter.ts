/**
 * The WHERE clause of a list query from its optional filters: each condition is used when the
 * value it binds is given (not undefined), so a list route states its filters once, as data.
 */
export interface SqlFilter {
  /** `WHERE a AND b`, or '' when no condition applies. */
  where: string;
  bind: Record<string, unknown>;
}

/**
 * `values`: bind name → the filter's value (undefined: not filtering on it). `conditions`: bind
 * name → the SQL condition that uses `$name`. `always`: conditions that apply in any case.
 */
export function sqlFilter<K extends string>(values: Record<K, unknown>, conditions: Record<K, string>, always: string[] = []): SqlFilter {
  const bind: Record<string, unknown> = {};
  const parts = [...always];
  for (const name of Object.keys(conditions) as K[]) {
    if (values[name] === undefined) continue;
    bind[name] = values[name];
    parts.push(conditions[name]);
  }
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', bind };
}
