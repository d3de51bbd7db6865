import { randomBytes } from 'node:crypto';
import { faker } from '@faker-js/faker';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { Category, Product, SellerProfile, User } from '../../models';
import { hashPassword } from '../../utils/password';
import { slugify } from '../../utils/slug';

/** The category tree of a generated catalog: top level → children. */
export const CATEGORY_TREE: Record<string, string[]> = {
  Electronics: ['Audio', 'Computers', 'Phones', 'Cameras'],
  'Home & Kitchen': ['Furniture', 'Kitchen', 'Lighting'],
  Fashion: ['Men', 'Women', 'Shoes'],
  'Sports & Outdoors': ['Fitness', 'Camping'],
  Books: ['Fiction', 'Non-fiction'],
  'Toys & Games': [],
  Beauty: ['Skincare', 'Fragrance'],
};

const TAGS = [
  'new', 'bestseller', 'eco', 'handmade', 'wireless', 'organic', 'premium', 'gift', 'sale', 'portable',
  'vintage', 'waterproof', 'smart', 'limited', 'durable', 'lightweight', 'classic', 'travel', 'kids', 'outdoor',
];

export interface CatalogOptions {
  products: number;
  sellers: number;
  /** Password of the generated sellers; they get an unusable random one when omitted. */
  sellerPassword?: string;
  sellerEmailPrefix?: string;
  bcryptRounds?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CatalogResult {
  categoryIds: string[];
  sellerIds: string[];
  productCount: number;
}

const BATCH = 1000;

/** Creates the category tree where missing (by slug) and returns the ids of every category in it. */
export async function ensureCategories(transaction?: Transaction): Promise<string[]> {
  const ids: string[] = [];
  let sortOrder = 0;
  for (const [parentName, children] of Object.entries(CATEGORY_TREE)) {
    const [parent] = await Category.findOrCreate({
      where: { slug: slugify(parentName) },
      defaults: { name: parentName, slug: slugify(parentName), sortOrder: sortOrder++, description: `${parentName} from independent sellers` },
      transaction,
    });
    ids.push(parent.id);
    for (const childName of children) {
      const slug = slugify(`${parentName} ${childName}`);
      const [child] = await Category.findOrCreate({
        where: { slug },
        defaults: { name: childName, slug, parentId: parent.id, sortOrder: sortOrder++ },
        transaction,
      });
      ids.push(child.id);
    }
  }
  return ids;
}

function cents(min: number, max: number): number {
  return faker.number.int({ min, max });
}

function money(amount: number): string {
  return (amount / 100).toFixed(2);
}

function productRow(index: number, runId: string, sellerIds: string[], categoryIds: string[]): Record<string, unknown> {
  const name = `${faker.commerce.productAdjective()} ${faker.commerce.productMaterial()} ${faker.commerce.product()}`;
  const price = cents(199, 250_000);
  const hasDiscount = faker.number.int({ min: 0, max: 3 }) === 0;
  const stock = faker.number.int({ min: 0, max: 10 }) === 0 ? 0 : faker.number.int({ min: 1, max: 500 });
  const roll = faker.number.int({ min: 0, max: 19 });
  const status = roll === 0 ? 'draft' : roll === 1 ? 'inactive' : stock === 0 ? 'out_of_stock' : 'active';
  const slug = `${slugify(name, 80)}-${runId}${index.toString(36)}`;
  return {
    id: faker.string.uuid(),
    sellerId: sellerIds[index % sellerIds.length],
    categoryId: faker.helpers.arrayElement(categoryIds),
    name,
    slug,
    shortDescription: faker.commerce.productDescription().slice(0, 240),
    description: `${faker.commerce.productDescription()} ${faker.lorem.paragraph()}`,
    price: money(price),
    comparePrice: hasDiscount ? money(price + cents(100, Math.max(101, Math.floor(price / 2)))) : null,
    costPrice: money(Math.floor(price * 0.6)),
    sku: `SKU-${runId}-${index.toString().padStart(6, '0')}`.toUpperCase(),
    stockQuantity: stock,
    lowStockThreshold: 10,
    weight: faker.number.float({ min: 0.1, max: 20, fractionDigits: 2 }).toFixed(2),
    dimensions: { length: faker.number.int({ min: 5, max: 100 }), width: faker.number.int({ min: 5, max: 100 }), height: faker.number.int({ min: 1, max: 60 }) },
    images: [`https://picsum.photos/seed/${slug}/800/800`],
    status,
    tags: faker.helpers.arrayElements(TAGS, { min: 1, max: 5 }),
    viewCount: faker.number.int({ min: 0, max: 5000 }),
    createdAt: faker.date.recent({ days: 365 }),
    updatedAt: new Date(),
  };
}

/**
 * Generates a realistic catalog (the category tree, approved sellers with store profiles,
 * products with tags, stock and prices) with multi-row inserts of 1,000 rows.
 */
export async function generateCatalog(sequelize: Sequelize, options: CatalogOptions): Promise<CatalogResult> {
  faker.seed(options.seed ?? Date.now());
  const runId = randomBytes(3).toString('hex');
  const categoryIds = await ensureCategories();

  const password = await hashPassword(options.sellerPassword ?? randomBytes(24).toString('base64url'), options.bcryptRounds ?? 10);
  const prefix = options.sellerEmailPrefix ?? `seller-${runId}`;
  const sellerIds: string[] = [];
  await sequelize.transaction(async (transaction) => {
    for (let i = 1; i <= options.sellers; i += 1) {
      const storeName = `${faker.company.name()} ${faker.helpers.arrayElement(['Store', 'Goods', 'Supply', 'Co.', 'Market'])}`.slice(0, 100);
      const user = await User.create(
        { email: `${prefix}-${i}@example.com`, password, name: faker.person.fullName().slice(0, 100), role: 'seller', status: 'approved', emailVerified: true },
        { transaction },
      );
      await SellerProfile.create(
        { userId: user.id, storeName, storeSlug: `${slugify(storeName, 100)}-${runId}${i}`, storeDescription: faker.company.catchPhrase(), approvedAt: new Date() },
        { transaction },
      );
      sellerIds.push(user.id);
    }
  });

  const leafIds = await sequelize.query<{ id: string }>(
    'SELECT c.id FROM categories c WHERE NOT EXISTS (SELECT 1 FROM categories k WHERE k.parent_id = c.id)',
    { type: QueryTypes.SELECT },
  );
  const targets = leafIds.length > 0 ? leafIds.map((row) => row.id) : categoryIds;
  for (let done = 0; done < options.products; done += BATCH) {
    const size = Math.min(BATCH, options.products - done);
    const rows = Array.from({ length: size }, (_, i) => productRow(done + i, runId, sellerIds, targets));
    await Product.bulkCreate(rows as never[], { validate: false, hooks: false });
    options.onProgress?.(done + size, options.products);
  }
  return { categoryIds, sellerIds, productCount: options.products };
}
