import Joi from 'joi';
import type { ProductOption, ProductStatus, VariantOptions } from '../../models';
import { fromMinor, toMinor } from '../../platform/utils/money';
import type { PageQuery } from '../../platform/utils/pagination';
import { httpUrl, money, objectOf, oneLine, oneOf, page, limit, uuid } from '../../platform/http/common.schemas';
import type { ProductDimensions } from '../../models';
import type { FacetQuery, ProductChanges, ProductInput, ProductListQuery, ProductSearchQuery } from './product.service';
import { MAX_OPTION_VALUES, MAX_OPTIONS, MAX_VARIANTS, type VariantChanges, type VariantInput } from './variant-store';

const MAX_PRICE_MINOR = 99_999_999;
const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 50;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** An amount within [minMinor, maxMinor] cents, normalised to the "19.99" string the database and JSON use. */
function amount(minMinor: number, maxMinor: number, rule: string): Joi.AlternativesSchema<string> {
  return money.custom((value: string | number, helpers) => {
    const minor = toMinor(value);
    if (minor < minMinor || minor > maxMinor) return helpers.message({ custom: `{{#label}} must be ${rule}` });
    return fromMinor(minor);
  });
}

const price = amount(1, MAX_PRICE_MINOR, 'greater than 0 and at most 999999.99');
const comparePrice = amount(1, MAX_PRICE_MINOR, 'greater than 0 and at most 999999.99');
const costPrice = amount(0, MAX_PRICE_MINOR, 'between 0 and 999999.99');
const priceFilter = amount(0, MAX_PRICE_MINOR, 'between 0 and 999999.99');

/** Trimmed, lowercased, deduplicated; at most 20 of at most 50 characters. */
function normaliseTags(values: string[], helpers: Joi.CustomHelpers): string[] | Joi.ErrorReport {
  const tags = [...new Set(values.map((tag) => tag.trim().toLowerCase()).filter((tag) => tag.length > 0))];
  if (tags.length > MAX_TAGS) return helpers.message({ custom: `{{#label}} must contain at most ${MAX_TAGS} tags` });
  if (tags.some((tag) => tag.length > MAX_TAG_LENGTH)) {
    return helpers.message({ custom: `{{#label}} must contain tags of at most ${MAX_TAG_LENGTH} characters` });
  }
  return tags;
}

const tags = Joi.array<string[]>()
  .items(Joi.string().trim().lowercase().min(1).max(MAX_TAG_LENGTH))
  .max(100)
  .custom(normaliseTags)
  .description(`At most ${MAX_TAGS} distinct tags once case and repeats are folded (up to 100 items sent)`);

/** `tags=a,b` or `tags=a&tags=b`: products having all of them. */
const tagFilter = Joi.alternatives<string[]>()
  .try(Joi.array().items(Joi.string().max(1100)).max(MAX_TAGS), Joi.string().max(1100))
  .custom((value: string | string[], helpers) => normaliseTags((Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')), helpers))
  .description('Comma-separated or repeated; products having all of these tags');

const dimension = Joi.number().positive().max(100_000);
const dimensions = objectOf<ProductDimensions>()({
  length: dimension.required(),
  width: dimension.required(),
  height: dimension.required(),
  unit: oneOf('mm', 'cm', 'm', 'in', 'ft'),
});

/** An option name or value: 1..50 characters on one line. */
const optionText = oneLine(50).min(1);

const productOption = objectOf<ProductOption>()({
  name: optionText.required(),
  values: Joi.array<string[]>().items(optionText).min(1).max(MAX_OPTION_VALUES).unique().required(),
});

const productOptions = Joi.array<ProductOption[]>()
  .items(productOption)
  .max(MAX_OPTIONS)
  .unique('name')
  .description(`Up to ${MAX_OPTIONS} options, names unique, each with up to ${MAX_OPTION_VALUES} distinct values`);

const variantOptions = Joi.object<VariantOptions>()
  .pattern(optionText, optionText)
  .max(MAX_OPTIONS)
  .description('One value of every option of the product: {"Size": "M", "Color": "Red"}');

const images = Joi.array<string[]>().items(httpUrl).max(10);

const variantFields = {
  sku: Joi.string().trim().min(2).max(100),
  title: oneLine(255).min(1).description('Default: the option values joined by " / " ("M / Red")'),
  options: variantOptions,
  price,
  comparePrice: comparePrice.allow(null),
  costPrice: costPrice.allow(null),
  stockQuantity: Joi.number().integer().min(0).max(1_000_000),
  lowStockThreshold: Joi.number().integer().min(0).max(1_000_000),
  images,
  status: oneOf('active', 'inactive'),
};

const productFields = {
  name: Joi.string().trim().min(2).max(255),
  description: Joi.string().trim().min(10).max(10_000).allow(null),
  shortDescription: Joi.string().trim().min(10).max(500).allow(null),
  price,
  comparePrice: comparePrice.allow(null),
  costPrice: costPrice.allow(null),
  sku: Joi.string().trim().min(2).max(100),
  stockQuantity: Joi.number().integer().min(0).max(1_000_000),
  lowStockThreshold: Joi.number().integer().min(0).max(1_000_000),
  weight: Joi.number().min(0).max(999_999.99).precision(2).allow(null),
  dimensions: dimensions.allow(null),
  images,
  options: productOptions,
  status: oneOf('draft', 'active', 'inactive').description('out_of_stock is derived: an active product with no stock'),
  categoryId: uuid.allow(null),
  tags,
  seoTitle: Joi.string().trim().max(255).allow('', null),
  seoDescription: Joi.string().trim().max(500).allow('', null),
};

/** comparePrice, when set, is above price (both are normalised strings by now). */
function comparePriceAbovePrice(value: { price?: string; comparePrice?: string | null }, helpers: Joi.CustomHelpers) {
  if (value.price !== undefined && value.comparePrice !== undefined && value.comparePrice !== null && toMinor(value.comparePrice) <= toMinor(value.price)) {
    return helpers.message({ custom: 'comparePrice must be greater than price' });
  }
  return value;
}

const variant = objectOf<VariantInput>()({
  ...variantFields,
  sku: variantFields.sku.required(),
  price: variantFields.price.required(),
  options: variantOptions.default({}),
  stockQuantity: variantFields.stockQuantity.default(0),
  lowStockThreshold: variantFields.lowStockThreshold.default(10),
  images: images.default([]),
  status: variantFields.status.default('active'),
}).custom(comparePriceAbovePrice);

/** A product-level variant field: required without `variants` (it makes the default variant), refused with them. */
function defaultVariantField<S extends Joi.Schema>(schema: S, required: boolean): S {
  return schema.when('variants', {
    is: Joi.exist(),
    then: Joi.forbidden().messages({ 'any.unknown': '{{#label}} belongs to each variant when variants are given' }),
    otherwise: required ? Joi.required() : Joi.optional(),
  }) as unknown as S;
}

export const create = {
  body: objectOf<ProductInput>()({
    ...productFields,
    name: productFields.name.required(),
    price: defaultVariantField(productFields.price, true),
    comparePrice: defaultVariantField(productFields.comparePrice, false),
    costPrice: defaultVariantField(productFields.costPrice, false),
    sku: defaultVariantField(productFields.sku, true),
    stockQuantity: defaultVariantField(productFields.stockQuantity, false),
    lowStockThreshold: defaultVariantField(productFields.lowStockThreshold, false),
    variants: Joi.array<VariantInput[]>()
      .items(variant)
      .min(1)
      .max(MAX_VARIANTS)
      .when('options', { is: Joi.exist(), then: Joi.required() })
      .description(`1..${MAX_VARIANTS} variants; without them the product gets one default variant from price, sku and stockQuantity`),
    images: productFields.images.default([]),
    tags: productFields.tags.default([]),
    status: productFields.status.default('draft'),
    sellerId: uuid.description('Admins only: the approved seller who owns the product'),
  }).custom(comparePriceAbovePrice),
};

export const update = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Product',
  body: objectOf<ProductChanges>()(productFields).min(1).custom(comparePriceAbovePrice),
};

export const addVariant = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Product',
  body: variant,
};

export const updateVariant = {
  params: objectOf<{ id: string; variantId: string }>()({ id: uuid.required(), variantId: uuid.required() }),
  notFound: 'Variant',
  body: objectOf<VariantChanges>()(variantFields).min(1).custom(comparePriceAbovePrice),
};

export const removeVariant = {
  params: objectOf<{ id: string; variantId: string }>()({ id: uuid.required(), variantId: uuid.required() }),
  notFound: 'Variant',
};

export const byId = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Product',
};

// The path names this position `id` like its siblings (/:id/…: one name per position, as OpenAPI
// tools require); the value may be a slug too, and reaches the controller as idOrSlug.
export const show = {
  params: objectOf<{ idOrSlug: string }>()({
    idOrSlug: Joi.alternatives<string>()
      .try(uuid, Joi.string().lowercase().max(280).pattern(SLUG))
      .required()
      .description('The product id, or its slug'),
  }).rename('id', 'idOrSlug'),
  notFound: 'Product',
};

export const related = {
  ...byId,
  query: objectOf<{ limit: number }>()({ limit: Joi.number().integer().min(1).max(20).default(8) }),
};

const categoryFilter = Joi.string()
  .trim()
  .lowercase()
  .max(120)
  .pattern(/^[a-z0-9-]+$/)
  .messages({ 'string.pattern.base': '{{#label}} must be a category id or slug' })
  .description('Category id or slug; its sub-categories are included');

/** maxPrice not below minPrice (keys are validated in order: minPrice is converted by now). */
const maxPriceFilter = priceFilter.custom((value: string, helpers) => {
  const minPrice = (helpers.state.ancestors[0] as { minPrice?: unknown }).minPrice;
  if (typeof minPrice === 'string' && toMinor(minPrice) > toMinor(value)) {
    return helpers.message({ custom: 'maxPrice must not be less than minPrice' });
  }
  return value;
});

/**
 * `options=Size:M,Color:Red` (or repeated): products with an active variant having all of these
 * values. Names and values are split at the first colon; a value holding a comma cannot be asked for.
 */
const optionFilter = Joi.alternatives<VariantOptions>()
  .try(Joi.array().items(Joi.string().max(1100)).max(MAX_OPTIONS), Joi.string().max(1100))
  .custom((value: string | string[], helpers) => {
    const options: VariantOptions = {};
    for (const pair of (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(','))) {
      const at = pair.indexOf(':');
      const name = pair.slice(0, Math.max(at, 0)).trim();
      const optionValue = pair.slice(at + 1).trim();
      if (at < 1 || !name || !optionValue || name.length > 50 || optionValue.length > 50) {
        return helpers.message({ custom: '{{#label}} must be Name:Value pairs separated by commas' });
      }
      if (name in options) return helpers.message({ custom: `{{#label}} names option "${name}" twice` });
      options[name] = optionValue;
    }
    if (Object.keys(options).length > MAX_OPTIONS) return helpers.message({ custom: `{{#label}} must name at most ${MAX_OPTIONS} options` });
    return options;
  })
  .description('Name:Value pairs, comma-separated or repeated ("Size:M,Color:Red"): products with an active variant having all of them');

export const LIST_SORTS = ['createdAt', 'price', 'name', 'averageRating', 'viewCount'] as const;
export const SEARCH_SORTS = ['relevance', 'price_low', 'price_high', 'rating', 'newest'] as const;

export const list = {
  query: objectOf<ProductListQuery>()({
    page,
    limit,
    category: categoryFilter,
    search: Joi.string().trim().max(200).allow('').description('Full-text search, as in /api/products/search'),
    minPrice: priceFilter,
    maxPrice: maxPriceFilter,
    sellerId: uuid,
    tags: tagFilter,
    inStock: Joi.boolean(),
    options: optionFilter,
    sortBy: oneOf(...LIST_SORTS).default('createdAt'),
    sortOrder: oneOf('asc', 'desc').description('Default: asc for price and name, desc for the others'),
  }),
};

export const search = {
  query: objectOf<ProductSearchQuery>()({
    q: Joi.string().trim().min(1).max(200).required(),
    page,
    limit,
    category: categoryFilter,
    minPrice: priceFilter,
    maxPrice: maxPriceFilter,
    options: optionFilter,
    sortBy: oneOf(...SEARCH_SORTS).default('relevance'),
  }),
};

export const facets = {
  query: objectOf<FacetQuery>()({
    category: categoryFilter,
    search: Joi.string().trim().max(200).allow('').description('Full-text search, as in /api/products/search'),
    minPrice: priceFilter,
    maxPrice: maxPriceFilter,
    sellerId: uuid,
  }),
};

export const sellerList = {
  query: objectOf<PageQuery & { status?: ProductStatus }>()({
    page,
    limit,
    status: oneOf('draft', 'active', 'inactive', 'out_of_stock'),
  }),
};
