import Joi from 'joi';
import { httpUrl, objectOf, uuid } from '../../platform/http/common.schemas';
import type { CategoryInput } from './category.service';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const categoryFields = {
  name: Joi.string().trim().min(2).max(100),
  // A slug shaped like a UUID would be read as an id by GET /api/categories/:idOrSlug.
  slug: Joi.string()
    .trim()
    .lowercase()
    .min(2)
    .max(120)
    .pattern(SLUG)
    .messages({ 'string.pattern.base': '{{#label}} must be lowercase letters and digits separated by single hyphens' })
    .custom((value: string, helpers) => (UUID_SHAPE.test(value) ? helpers.message({ custom: '{{#label}} must not look like an id' }) : value)),
  description: Joi.string().trim().max(2000).allow('', null),
  parentId: uuid.allow(null),
  imageUrl: httpUrl.allow(null),
  sortOrder: Joi.number().integer().min(-100_000).max(100_000),
};

export const create = {
  body: objectOf<CategoryInput>()({ ...categoryFields, name: categoryFields.name.required() }),
};

export const update = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Category',
  body: objectOf<Partial<CategoryInput>>()(categoryFields).min(1),
};

export const byId = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Category',
};

// The path names this position `id` like its siblings (/:id/…: one name per position, as OpenAPI
// tools require); the value may be a slug too, and reaches the controller as idOrSlug.
export const show = {
  params: objectOf<{ idOrSlug: string }>()({
    idOrSlug: Joi.alternatives<string>()
      .try(uuid, Joi.string().lowercase().max(120).pattern(SLUG))
      .required()
      .description('The category id, or its slug'),
  }).rename('id', 'idOrSlug'),
  notFound: 'Category',
};
