import crypto from 'node:crypto';
import { UniqueConstraintError, type Transaction } from 'sequelize';
import { slugify } from '../utils/slug';
import { getSequelize } from './index';

function violates(error: unknown, indexName: string): boolean {
  if (!(error instanceof UniqueConstraintError)) return false;
  const original = error.original as { constraint?: string } | undefined;
  return original?.constraint === indexName || error.errors.some((item) => item.path?.includes('slug'));
}

/**
 * Runs `create(slug)` with the slug made from `text`, and on a collision with the unique index
 * `indexName` again with a random suffix. The index decides uniqueness, so two concurrent
 * creates of the same name cannot both win. Inside a transaction each attempt runs in a
 * savepoint, so a collision does not abort the caller's transaction.
 */
export async function withUniqueSlug<T>(
  text: string,
  indexName: string,
  create: (slug: string) => Promise<T>,
  options: { transaction?: Transaction | null; maxLength?: number } = {},
): Promise<T> {
  const maxLength = options.maxLength ?? 100;
  const parent = options.transaction ?? undefined;
  const base = slugify(text, maxLength - 7);
  for (let attempt = 0; ; attempt += 1) {
    const slug = attempt === 0 ? base : `${base}-${crypto.randomBytes(3).toString('hex')}`;
    try {
      return parent ? await getSequelize().transaction({ transaction: parent }, () => create(slug)) : await create(slug);
    } catch (error) {
      if (!violates(error, indexName) || attempt >= 5) throw error;
    }
  }
}
