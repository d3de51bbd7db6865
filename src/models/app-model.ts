import { Model } from 'sequelize-typescript';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finders check ids first: a malformed id is "not found", not a PostgreSQL cast error. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * Base class of every model. Its toJSON serializes included associations through their own
 * toJSON: Sequelize's default reads includes with get({ plain: true }), which would bypass
 * the secrets a model drops (a User included as an order's `user` would carry its password).
 */
export abstract class AppModel<TAttributes extends object = any, TCreation extends object = TAttributes> extends Model<
  TAttributes,
  TCreation
> {
  override toJSON<T extends TAttributes>(): T {
    const values = this.get() as Record<string, unknown>;
    const json: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) json[key] = serialize(value);
    return json as T;
  }
}

function serialize(value: unknown): unknown {
  if (value instanceof Model) return value.toJSON();
  if (Array.isArray(value)) return value.map(serialize);
  // Copy jsonb documents so that callers editing the output never edit the instance.
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return structuredClone(value);
  return value;
}
