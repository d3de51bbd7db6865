import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { getSequelize } from '../../src/platform/db';
import { Category, Product } from '../../src/models';
import { createAdmin, createCategory, createProduct, createSeller, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { signedInSeller } from '../support/catalog';

interface Node {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  children: Node[];
  [key: string]: unknown;
}

function findNode(nodes: Node[], id: string): Node | undefined {
  for (const node of nodes) {
    if (node.id === id) return node;
    const found = findNode(node.children, id);
    if (found) return found;
  }
  return undefined;
}

describe('categories', () => {
  const ctx = useTestApp();
  let adminBearer: string;

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
  });

  const post = (body: object) => request(ctx.app).post('/api/categories').set('Authorization', adminBearer).send(body);
  const patch = (id: string, body: object) => request(ctx.app).patch(`/api/categories/${id}`).set('Authorization', adminBearer).send(body);
  const remove = (id: string) => request(ctx.app).delete(`/api/categories/${id}`).set('Authorization', adminBearer);

  describe('reading', () => {
    it('serves every category as a tree of children, in display order', async () => {
      const root = await createCategory({ name: `Root ${uniqueSuffix()}`, sortOrder: -50 });
      const second = await createCategory({ parentId: root.id, name: 'B second', sortOrder: 2 });
      const first = await createCategory({ parentId: root.id, name: 'A first', sortOrder: 1 });
      const leaf = await createCategory({ parentId: first.id });

      const res = await request(ctx.app).get('/api/categories');
      expect(res.status).toBe(200);
      const tree = res.body.data.categories as Node[];
      expect(tree.every((node) => node.parentId === null)).toBe(true);
      const node = tree.find((candidate) => candidate.id === root.id)!;
      expect(node.children.map((child) => child.id)).toEqual([first.id, second.id]);
      expect(node.children[0].children.map((child) => child.id)).toEqual([leaf.id]);
      expect(node.children[0].children[0]).toEqual({
        id: leaf.id,
        name: leaf.name,
        slug: leaf.slug,
        description: leaf.description,
        parentId: first.id,
        imageUrl: null,
        sortOrder: 0,
        children: [],
      });
      // Nested once only: a child is not repeated at the top.
      expect(tree.find((candidate) => candidate.id === first.id)).toBeUndefined();
    });

    it('serves one category by id or slug, with its sub-tree and the listed products of all of it', async () => {
      const root = await createCategory();
      const child = await createCategory({ parentId: root.id });
      const grandchild = await createCategory({ parentId: child.id });
      const { user } = await createSeller();
      await createProduct({ sellerId: user.id, categoryId: root.id });
      await createProduct({ sellerId: user.id, categoryId: child.id });
      await createProduct({ sellerId: user.id, categoryId: grandchild.id });
      await createProduct({ sellerId: user.id, categoryId: grandchild.id, stockQuantity: 0 });
      await createProduct({ sellerId: user.id, categoryId: grandchild.id, status: 'draft' });
      await createProduct({ sellerId: user.id, categoryId: grandchild.id, status: 'inactive' });
      await (await createProduct({ sellerId: user.id, categoryId: child.id })).destroy();

      for (const key of [root.id, root.slug, root.id.toUpperCase()]) {
        const res = await request(ctx.app).get(`/api/categories/${key}`);
        expect(res.status).toBe(200);
        expect(res.body.data).toMatchObject({ id: root.id, slug: root.slug, parentId: null, productCount: 4 });
        expect(res.body.data.children.map((node: Node) => node.id)).toEqual([child.id]);
        expect(res.body.data.children[0].children.map((node: Node) => node.id)).toEqual([grandchild.id]);
      }
      const leaf = await request(ctx.app).get(`/api/categories/${grandchild.slug}`);
      expect(leaf.body.data).toMatchObject({ id: grandchild.id, parentId: child.id, children: [], productCount: 2 });
    });

    it('answers 404 CATEGORY_NOT_FOUND for unknown and malformed keys', async () => {
      for (const key of ['00000000-0000-4000-8000-000000000000', 'no-such-category', 'Not A Slug!', "x'; DROP TABLE categories; --", 'a'.repeat(200)]) {
        const res = await request(ctx.app).get(`/api/categories/${encodeURIComponent(key)}`);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('CATEGORY_NOT_FOUND');
      }
    });

    it('rejects query parameters it does not take', async () => {
      const res = await request(ctx.app).get('/api/categories').query({ depth: 2 });
      expect(res.status).toBe(400);
    });
  });

  describe('creating', () => {
    it('lets an admin create a category, with a slug made from the name and unique', async () => {
      const name = `Outdoor Cooking ${uniqueSuffix()}`;
      const first = await post({ name, description: 'Grills and stoves', sortOrder: 3, imageUrl: 'https://img.example.com/c.png' });
      expect(first.status).toBe(201);
      expect(first.body.data).toMatchObject({ name, slug: name.toLowerCase().replace(/ /g, '-'), description: 'Grills and stoves', parentId: null, sortOrder: 3 });
      const second = await post({ name, parentId: first.body.data.id });
      expect(second.status).toBe(201);
      expect(second.body.data.slug).not.toBe(first.body.data.slug);
      expect(second.body.data.slug.startsWith(first.body.data.slug)).toBe(true);
      expect(second.body.data.parentId).toBe(first.body.data.id);
    });

    it('answers 409 CATEGORY_EXISTS for an explicit slug that is taken', async () => {
      const existing = await createCategory();
      const before = await Category.count();
      const res = await post({ name: 'Anything', slug: existing.slug });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CATEGORY_EXISTS');
      expect(await Category.count()).toBe(before);
      const fresh = await post({ name: 'Anything', slug: `my-own-${uniqueSuffix()}` });
      expect(fresh.status).toBe(201);
    });

    it.each([
      ['no name', {}],
      ['a one-letter name', { name: 'x' }],
      ['a slug with spaces', { name: 'Good name', slug: 'bad slug' }],
      ['a slug shaped like an id', { name: 'Good name', slug: '00000000-0000-4000-8000-000000000000' }],
      ['a malformed parentId', { name: 'Good name', parentId: 'nope' }],
      ['a parentId naming nothing', { name: 'Good name', parentId: '00000000-0000-4000-8000-000000000000' }],
      ['a non-http image', { name: 'Good name', imageUrl: 'javascript:alert(1)' }],
      ['an unknown field', { name: 'Good name', isActive: false }],
    ])('answers 400 VALIDATION_ERROR for %s and creates nothing', async (_label, body) => {
      const before = await Category.count();
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(await Category.count()).toBe(before);
    });

    it('is for admins only', async () => {
      const customer = await signedInUser(ctx.app);
      const seller = await signedInSeller(ctx.app);
      const before = await Category.count();
      for (const bearer of [customer.bearer, seller.bearer]) {
        const res = await request(ctx.app).post('/api/categories').set('Authorization', bearer).send({ name: 'Sneaky' });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
      }
      expect((await request(ctx.app).post('/api/categories').send({ name: 'Sneaky' })).status).toBe(401);
      expect(await Category.count()).toBe(before);
    });
  });

  describe('changing', () => {
    it('renames (keeping the slug), changes the slug, and moves a category', async () => {
      const category = await createCategory();
      const parent = await createCategory();
      const renamed = await patch(category.id, { name: 'Renamed category', description: '' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.data).toMatchObject({ name: 'Renamed category', slug: category.slug, description: null });
      const slug = `chosen-${uniqueSuffix()}`;
      expect((await patch(category.id, { slug })).body.data.slug).toBe(slug);
      const moved = await patch(category.id, { parentId: parent.id });
      expect(moved.body.data.parentId).toBe(parent.id);
      const top = await patch(category.id, { parentId: null });
      expect(top.body.data.parentId).toBeNull();
    });

    it('answers 400 CATEGORY_CYCLE for a move under itself or a descendant, and changes nothing', async () => {
      const root = await createCategory();
      const child = await createCategory({ parentId: root.id });
      const grandchild = await createCategory({ parentId: child.id });
      for (const parentId of [root.id, child.id, grandchild.id]) {
        const res = await patch(root.id, { parentId, name: 'Should not stick' });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('CATEGORY_CYCLE');
      }
      const stored = await Category.findByPk(root.id);
      expect(stored).toMatchObject({ parentId: null, name: root.name });
      expect((await patch(grandchild.id, { parentId: root.id })).status).toBe(200);
    });

    it('never lets two concurrent moves make a cycle', async () => {
      const pairs = await Promise.all(Array.from({ length: 8 }, async () => [await createCategory(), await createCategory()] as const));
      const answers = await Promise.all(pairs.flatMap(([a, b]) => [patch(a.id, { parentId: b.id }), patch(b.id, { parentId: a.id })]));
      for (let i = 0; i < pairs.length; i += 1) {
        const [ab, ba] = [answers[2 * i], answers[2 * i + 1]];
        expect([ab.status, ba.status].sort()).toEqual([200, 400]);
        expect([ab, ba].find((res) => res.status === 400)?.body.error.code).toBe('CATEGORY_CYCLE');
        const [a, b] = pairs[i];
        const [storedA, storedB] = await Promise.all([Category.findByPk(a.id), Category.findByPk(b.id)]);
        expect(storedA?.parentId === b.id && storedB?.parentId === a.id).toBe(false);
      }
    });

    it('answers 409 CATEGORY_EXISTS for a taken slug, 400 for an unknown parent, 404 for unknown ids', async () => {
      const one = await createCategory();
      const two = await createCategory();
      const taken = await patch(two.id, { slug: one.slug });
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('CATEGORY_EXISTS');
      const orphan = await patch(two.id, { parentId: '00000000-0000-4000-8000-000000000000' });
      expect(orphan.status).toBe(400);
      expect(orphan.body.error.code).toBe('VALIDATION_ERROR');
      expect((await Category.findByPk(two.id))?.slug).toBe(two.slug);
      expect((await patch('00000000-0000-4000-8000-000000000000', { name: 'Ghost' })).status).toBe(404);
      const malformed = await patch('not-an-id', { name: 'Ghost' });
      expect(malformed.status).toBe(404);
      expect(malformed.body.error.code).toBe('CATEGORY_NOT_FOUND');
      expect((await patch(two.id, {})).status).toBe(400);
    });
  });

  describe('deleting', () => {
    it('deletes an empty category', async () => {
      const category = await createCategory();
      const neighbour = await createCategory();
      const res = await remove(category.id);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ id: category.id });
      expect((await request(ctx.app).get(`/api/categories/${category.id}`)).status).toBe(404);
      expect(await Category.findByPk(neighbour.id)).not.toBeNull();
      expect((await remove(category.id)).status).toBe(404);
      expect((await remove('nope')).status).toBe(404);
    });

    it('answers 409 CATEGORY_NOT_EMPTY while it has sub-categories or live products', async () => {
      const parent = await createCategory();
      const child = await createCategory({ parentId: parent.id });
      const withChild = await remove(parent.id);
      expect(withChild.status).toBe(409);
      expect(withChild.body.error.code).toBe('CATEGORY_NOT_EMPTY');

      const { user } = await createSeller();
      const product = await createProduct({ sellerId: user.id, categoryId: child.id, status: 'draft' });
      const withProduct = await remove(child.id);
      expect(withProduct.status).toBe(409);
      expect(withProduct.body.error.code).toBe('CATEGORY_NOT_EMPTY');
      expect(await Category.findByPk(child.id)).not.toBeNull();

      // A soft-deleted product does not hold the category; it is left uncategorized.
      await product.destroy();
      expect((await remove(child.id)).status).toBe(200);
      expect((await Product.findByPk(product.id, { paranoid: false }))?.categoryId).toBeNull();
      expect((await remove(parent.id)).status).toBe(200);
    });

    it('is for admins only', async () => {
      const category = await createCategory();
      const seller = await signedInSeller(ctx.app);
      const res = await request(ctx.app).delete(`/api/categories/${category.id}`).set('Authorization', seller.bearer);
      expect(res.status).toBe(403);
      expect(await Category.findByPk(category.id)).not.toBeNull();
    });
  });

  describe('depth (at most 8 levels)', () => {
    /** A chain of `levels` categories made through the API, top first. */
    async function chain(levels: number, under: string | null = null): Promise<string[]> {
      const ids: string[] = [];
      let parentId = under;
      for (let level = 1; level <= levels; level += 1) {
        const res = await post({ name: `Level ${level} ${uniqueSuffix()}`, parentId });
        expect(res.status).toBe(201);
        parentId = res.body.data.id;
        ids.push(res.body.data.id);
      }
      return ids;
    }

    it('creates a category on the 8th level and answers 400 CATEGORY_TOO_DEEP on the 9th', async () => {
      const levels = await chain(8);
      const before = await Category.count();
      const ninth = await post({ name: `Level 9 ${uniqueSuffix()}`, parentId: levels[7] });
      expect(ninth.status).toBe(400);
      expect(ninth.body.error.code).toBe('CATEGORY_TOO_DEEP');
      expect(await Category.count()).toBe(before);
      expect((await post({ name: `Another 8th ${uniqueSuffix()}`, parentId: levels[6] })).status).toBe(201);
    });

    it('answers 400 CATEGORY_TOO_DEEP for a move that would take a sub-tree past the 8th level, and changes nothing', async () => {
      const target = await chain(5);
      const subtree = await chain(4);
      const tooDeep = await patch(subtree[0], { parentId: target[4] });
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.body.error.code).toBe('CATEGORY_TOO_DEEP');
      expect((await Category.findByPk(subtree[0]))?.parentId).toBeNull();

      const fits = await patch(subtree[0], { parentId: target[3] });
      expect(fits.status).toBe(200);
      expect(fits.body.data.parentId).toBe(target[3]);
      // Its leaf is now on the 8th level: nothing more goes under it.
      expect((await post({ name: `Too deep ${uniqueSuffix()}`, parentId: subtree[3] })).body.error?.code).toBe('CATEGORY_TOO_DEEP');
    });

    it('serves a 3,000-level chain written before the limit existed, as a tree, without a 500', async () => {
      // Straight into the table: the API no longer makes such a chain.
      const [{ root }] = await getSequelize().query<{ root: string }>(
        `WITH RECURSIVE ids AS (SELECT 1 AS level, gen_random_uuid() AS id UNION ALL SELECT level + 1, gen_random_uuid() FROM ids WHERE level < 3000),
         chain AS (SELECT level, id, lag(id) OVER (ORDER BY level) AS parent_id FROM ids),
         inserted AS (
           INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at)
           SELECT id, 'Deep ' || level, 'deep-${uniqueSuffix()}-' || level, parent_id, now(), now() FROM chain
         )
         SELECT id AS root FROM chain WHERE level = 1`,
        { type: QueryTypes.SELECT },
      );
      try {
        const res = await request(ctx.app).get('/api/categories');
        expect(res.status).toBe(200);
        let node = (res.body.data.categories as Node[]).find((candidate) => candidate.id === root);
        let depth = 0;
        while (node) {
          depth += 1;
          expect(node.name).toBe(`Deep ${depth}`);
          node = node.children[0];
        }
        expect(depth).toBe(3000);

        const one = await request(ctx.app).get(`/api/categories/${root}`);
        expect(one.status).toBe(200);
        expect(one.body.data).toMatchObject({ id: root, productCount: 0 });
        expect(one.body.data.children).toHaveLength(1);

        const listing = await request(ctx.app).get('/api/products').query({ category: root });
        expect(listing.status).toBe(200);
      } finally {
        await getSequelize().query(`UPDATE categories SET parent_id = NULL WHERE name LIKE 'Deep %'`);
        await getSequelize().query(`DELETE FROM categories WHERE name LIKE 'Deep %'`);
      }
    });
  });

  it('finds a node in the tree after changes (smoke of the whole cycle)', async () => {
    const created = (await post({ name: `Tree smoke ${uniqueSuffix()}` })).body.data;
    const child = (await post({ name: 'Tree smoke child', parentId: created.id })).body.data;
    const tree = (await request(ctx.app).get('/api/categories')).body.data.categories as Node[];
    expect(findNode(tree, child.id)?.parentId).toBe(created.id);
  });
});
