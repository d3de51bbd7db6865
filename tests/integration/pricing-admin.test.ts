import request from 'supertest';
import { Promotion } from '../../src/models';
import { createProduct, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller } from '../support/catalog';

const STANDARD = { name: 'Standard', countries: ['gb', 'IE'], price: '4.99' };

/** A code no other test of the file uses. */
const code = (prefix: string) => `${prefix}${uniqueSuffix()}`.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 40);

describe('pricing: shipping rates, tax rates and promotions', () => {
  const ctx = useTestApp();

  const send = (user: SignedIn, method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) => {
    const req = request(ctx.app)[method](path).set('Authorization', user.bearer);
    return body === undefined ? req : req.send(body);
  };
  const expectRefused = (res: request.Response, status: number, errorCode: string) => expect([res.status, res.body.error?.code]).toEqual([status, errorCode]);

  describe('shipping rates', () => {
    const rates = async (seller: SignedIn) => (await send(seller, 'get', '/api/seller/shipping-rates').expect(200)).body.data.shippingRates;

    it('saves, lists (cheapest first), changes and deletes a seller’s rates', async () => {
      const seller = await signedInSeller(ctx.app);
      const created = await send(seller, 'post', '/api/seller/shipping-rates', STANDARD);
      expect(created.status).toBe(201);
      expect(created.body.data).toEqual({
        id: expect.any(String),
        name: 'Standard',
        countries: ['GB', 'IE'],
        price: '4.99',
        freeOver: null,
        estimatedDays: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const everywhere = await send(seller, 'post', '/api/seller/shipping-rates', { name: 'Worldwide', countries: ['*'], price: 0, freeOver: null, estimatedDays: 14 });
      expect(everywhere.body.data).toMatchObject({ countries: ['*'], price: '0.00', estimatedDays: 14 });
      expect((await rates(seller)).map((rate: { name: string }) => rate.name)).toEqual(['Worldwide', 'Standard']);

      const changed = await send(seller, 'patch', `/api/seller/shipping-rates/${created.body.data.id}`, { price: 3.5, freeOver: '50', countries: ['fr'] });
      expect(changed.status).toBe(200);
      expect(changed.body.data).toMatchObject({ name: 'Standard', price: '3.50', freeOver: '50.00', countries: ['FR'] });

      const removed = await send(seller, 'delete', `/api/seller/shipping-rates/${created.body.data.id}`);
      expect(removed.body.data).toEqual({ id: created.body.data.id });
      expect((await rates(seller)).map((rate: { id: string }) => rate.id)).toEqual([everywhere.body.data.id]);
    });

    it("answers 404 for another seller's rate and 403 for a customer", async () => {
      const owner = await signedInSeller(ctx.app);
      const other = await signedInSeller(ctx.app);
      const rate = (await send(owner, 'post', '/api/seller/shipping-rates', STANDARD).expect(201)).body.data;
      expectRefused(await send(other, 'patch', `/api/seller/shipping-rates/${rate.id}`, { price: '0.01' }), 404, 'SHIPPING_RATE_NOT_FOUND');
      expectRefused(await send(other, 'delete', `/api/seller/shipping-rates/${rate.id}`), 404, 'SHIPPING_RATE_NOT_FOUND');
      expectRefused(await send(owner, 'delete', '/api/seller/shipping-rates/not-a-uuid'), 404, 'SHIPPING_RATE_NOT_FOUND');
      expect(await rates(other)).toEqual([]);
      expect(await rates(owner)).toEqual([rate]);

      const customer = await signedInUser(ctx.app);
      expectRefused(await send(customer, 'get', '/api/seller/shipping-rates'), 403, 'INSUFFICIENT_PERMISSIONS');
      expectRefused(await send(customer, 'post', '/api/seller/shipping-rates', STANDARD), 403, 'INSUFFICIENT_PERMISSIONS');
      expect((await request(ctx.app).get('/api/seller/shipping-rates')).status).toBe(401);
    });

    it('refuses hostile input with 400 VALIDATION_ERROR and writes nothing', async () => {
      const seller = await signedInSeller(ctx.app);
      const rate = (await send(seller, 'post', '/api/seller/shipping-rates', STANDARD).expect(201)).body.data;
      const bodies = [
        { ...STANDARD, price: '-1.00' },
        { ...STANDARD, price: -1 },
        { ...STANDARD, price: '1.999' },
        { ...STANDARD, countries: ['XX'] },
        { ...STANDARD, countries: ['*', 'GB'] },
        { ...STANDARD, countries: ['GB', 'gb'] },
        { ...STANDARD, countries: [] },
        { ...STANDARD, freeOver: '-5' },
        { ...STANDARD, estimatedDays: 366 },
        { ...STANDARD, estimatedDays: 1.5 },
        { ...STANDARD, sellerId: seller.user.id },
        { countries: ['GB'], price: '1.00' },
      ];
      for (const body of bodies) {
        const res = await send(seller, 'post', '/api/seller/shipping-rates', body);
        expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'VALIDATION_ERROR']);
      }
      for (const body of [{}, { price: '-0.01' }, { countries: ['*', 'FR'] }, { id: rate.id }]) {
        expectRefused(await send(seller, 'patch', `/api/seller/shipping-rates/${rate.id}`, body), 400, 'VALIDATION_ERROR');
      }
      expect(await rates(seller)).toEqual([rate]);
    });

    it('holds 50 rates per seller, also for requests at once', async () => {
      const seller = await signedInSeller(ctx.app);
      const answers = await Promise.all(
        Array.from({ length: 55 }, (_, index) => send(seller, 'post', '/api/seller/shipping-rates', { ...STANDARD, name: `Rate ${index}` })),
      );
      expect(answers.filter((answer) => answer.status === 201)).toHaveLength(50);
      expect(answers.filter((answer) => answer.status !== 201).map((answer) => [answer.status, answer.body.error.code])).toEqual(Array(5).fill([400, 'SHIPPING_RATE_LIMIT']));
      expect(await rates(seller)).toHaveLength(50);
      expectRefused(await send(seller, 'post', '/api/seller/shipping-rates', STANDARD), 400, 'SHIPPING_RATE_LIMIT');
    });
  });

  describe('tax rates', () => {
    const taxRates = async (admin: SignedIn, country: string) =>
      ((await send(admin, 'get', '/api/admin/tax-rates').expect(200)).body.data.taxRates as Array<{ country: string; state: string | null }>).filter((rate) => rate.country === country);

    it('saves, lists (country-wide first), changes and deletes tax rates', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const state = await send(admin, 'post', '/api/admin/tax-rates', { country: 'us', state: 'ca', rate: 0.0825, name: 'CA sales tax' });
      expect(state.status).toBe(201);
      expect(state.body.data).toEqual({
        id: expect.any(String),
        country: 'US',
        state: 'CA',
        rate: '0.0825',
        name: 'CA sales tax',
        appliesToShipping: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const country = await send(admin, 'post', '/api/admin/tax-rates', { country: 'US', state: null, rate: '0', name: 'No federal sales tax', appliesToShipping: true });
      expect(country.body.data).toMatchObject({ state: null, rate: '0.0000', appliesToShipping: true });
      await send(admin, 'post', '/api/admin/tax-rates', { country: 'US', state: 'NY', rate: '0.04', name: 'NY sales tax' }).expect(201);
      expect((await taxRates(admin, 'US')).map((rate) => rate.state)).toEqual([null, 'CA', 'NY']);

      const changed = await send(admin, 'patch', `/api/admin/tax-rates/${state.body.data.id}`, { rate: '0.0875', appliesToShipping: true });
      expect(changed.body.data).toMatchObject({ state: 'CA', rate: '0.0875', appliesToShipping: true });
      const whole = await send(admin, 'patch', `/api/admin/tax-rates/${country.body.data.id}`, { rate: 1 });
      expect(whole.body.data.rate).toBe('1.0000');

      expect((await send(admin, 'delete', `/api/admin/tax-rates/${state.body.data.id}`)).body.data).toEqual({ id: state.body.data.id });
      expectRefused(await send(admin, 'delete', `/api/admin/tax-rates/${state.body.data.id}`), 404, 'TAX_RATE_NOT_FOUND');
      expect((await taxRates(admin, 'US')).map((rate) => rate.state)).toEqual([null, 'NY']);
    });

    it('answers 409 TAX_RATE_EXISTS for a second rate of one country, or of one state in any case', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const whole = (await send(admin, 'post', '/api/admin/tax-rates', { country: 'DE', rate: '0.19', name: 'MwSt' }).expect(201)).body.data;
      expectRefused(await send(admin, 'post', '/api/admin/tax-rates', { country: 'de', rate: '0.07', name: 'Reduced' }), 409, 'TAX_RATE_EXISTS');
      expectRefused(await send(admin, 'post', '/api/admin/tax-rates', { country: 'DE', state: null, rate: '0.07', name: 'Reduced' }), 409, 'TAX_RATE_EXISTS');

      const bavaria = (await send(admin, 'post', '/api/admin/tax-rates', { country: 'DE', state: 'by', rate: '0.19', name: 'Bavaria' }).expect(201)).body.data;
      expectRefused(await send(admin, 'post', '/api/admin/tax-rates', { country: 'DE', state: 'BY', rate: '0.2', name: 'Bavaria again' }), 409, 'TAX_RATE_EXISTS');
      // Moving a rate onto another's country and state is the same conflict.
      expectRefused(await send(admin, 'patch', `/api/admin/tax-rates/${bavaria.id}`, { state: null }), 409, 'TAX_RATE_EXISTS');
      expect(await taxRates(admin, 'DE')).toEqual([whole, bavaria]);
    });

    it('refuses hostile input with 400 VALIDATION_ERROR, writes nothing, and is for admins only', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const valid = { country: 'FR', rate: '0.2', name: 'TVA' };
      const bodies = [
        { ...valid, rate: 1.5 },
        { ...valid, rate: '1.5' },
        { ...valid, rate: 0.12345 },
        { ...valid, rate: '0.12345' },
        { ...valid, rate: -0.1 },
        { ...valid, rate: '20%' },
        { ...valid, country: 'XX' },
        { ...valid, country: 'FRA' },
        { ...valid, state: 'Île\nde France' },
        { ...valid, name: '' },
        { ...valid, id: '5b0c1c43-8d7e-4f9a-9e43-2a1d3f7b9c10' },
        { country: 'FR', name: 'TVA' },
      ];
      for (const body of bodies) {
        const res = await send(admin, 'post', '/api/admin/tax-rates', body);
        expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'VALIDATION_ERROR']);
      }
      expect(await taxRates(admin, 'FR')).toEqual([]);

      const seller = await signedInSeller(ctx.app);
      const customer = await signedInUser(ctx.app);
      expectRefused(await send(seller, 'post', '/api/admin/tax-rates', valid), 403, 'INSUFFICIENT_PERMISSIONS');
      expectRefused(await send(customer, 'get', '/api/admin/tax-rates'), 403, 'INSUFFICIENT_PERMISSIONS');
      expect(await taxRates(admin, 'FR')).toEqual([]);
    });
  });

  describe('promotions', () => {
    const platformCodes = async (admin: SignedIn, query: Record<string, unknown> = {}) =>
      ((await request(ctx.app).get('/api/admin/promotions').set('Authorization', admin.bearer).query({ limit: 100, ...query }).expect(200)).body.data.promotions as Array<{ code: string }>).map(
        (promotion) => promotion.code,
      );
    const ownCodes = async (seller: SignedIn) =>
      ((await send(seller, 'get', '/api/seller/promotions').expect(200)).body.data.promotions as Array<{ code: string }>).map((promotion) => promotion.code);

    it('creates, lists, changes and deactivates a platform promotion', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const summer = code('summer');
      const created = await send(admin, 'post', '/api/admin/promotions', {
        code: summer.toLowerCase(),
        type: 'percentage',
        value: 10,
        minSubtotal: '30',
        startsAt: '2030-06-01T00:00:00Z',
        endsAt: '2030-09-01T00:00:00Z',
        usageLimit: 1000,
        usageLimitPerCustomer: 1,
      });
      expect(created.status).toBe(201);
      expect(created.body.data).toEqual({
        id: expect.any(String),
        code: summer,
        sellerId: null,
        type: 'percentage',
        value: '10.00',
        minSubtotal: '30.00',
        startsAt: '2030-06-01T00:00:00.000Z',
        endsAt: '2030-09-01T00:00:00.000Z',
        usageLimit: 1000,
        usageLimitPerCustomer: 1,
        productIds: null,
        categoryIds: null,
        active: true,
        usedCount: 0,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const shipping = await send(admin, 'post', '/api/admin/promotions', { code: code('ship'), type: 'free_shipping' });
      expect(shipping.body.data).toMatchObject({ type: 'free_shipping', value: null, active: true });
      const listed = await request(ctx.app).get('/api/admin/promotions').set('Authorization', admin.bearer).query({ limit: 1 });
      expect(listed.body.data.promotions.map((promotion: { code: string }) => promotion.code)).toEqual([shipping.body.data.code]);
      expect(listed.body.data.pagination).toMatchObject({ page: 1, limit: 1 });
      expect(await platformCodes(admin)).toEqual(expect.arrayContaining([summer, shipping.body.data.code]));

      const id = created.body.data.id;
      const changed = await send(admin, 'patch', `/api/admin/promotions/${id}`, { type: 'fixed', value: '5.50', usageLimit: null, endsAt: null });
      expect(changed.body.data).toMatchObject({ type: 'fixed', value: '5.50', usageLimit: null, endsAt: null, startsAt: '2030-06-01T00:00:00.000Z' });
      const toFreeShipping = await send(admin, 'patch', `/api/admin/promotions/${id}`, { type: 'free_shipping' });
      expectRefused(toFreeShipping, 400, 'VALIDATION_ERROR');
      expect(toFreeShipping.body.error.details).toEqual([{ field: 'value', message: expect.any(String) }]);
      expect((await send(admin, 'patch', `/api/admin/promotions/${id}`, { type: 'free_shipping', value: null })).body.data).toMatchObject({ type: 'free_shipping', value: null });
      expectRefused(await send(admin, 'patch', `/api/admin/promotions/${id}`, { endsAt: '2030-05-01T00:00:00Z' }), 400, 'VALIDATION_ERROR');

      const removed = await send(admin, 'delete', `/api/admin/promotions/${id}`);
      expect(removed.status).toBe(200);
      expect(removed.body.data).toMatchObject({ id, code: summer, active: false });
      expect(await platformCodes(admin)).toContain(summer);
      expect(await Promotion.findByPk(id)).toMatchObject({ active: false });
    });

    it('answers 409 PROMO_CODE_EXISTS for a code in another case, across admins and sellers', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const seller = await signedInSeller(ctx.app);
      const taken = code('summer');
      await send(admin, 'post', '/api/admin/promotions', { code: taken, type: 'percentage', value: '10' }).expect(201);
      expectRefused(await send(admin, 'post', '/api/admin/promotions', { code: taken.toLowerCase(), type: 'fixed', value: '5' }), 409, 'PROMO_CODE_EXISTS');
      expectRefused(await send(seller, 'post', '/api/seller/promotions', { code: taken.toLowerCase(), type: 'free_shipping' }), 409, 'PROMO_CODE_EXISTS');

      const sellers = code('store');
      const own = (await send(seller, 'post', '/api/seller/promotions', { code: sellers, type: 'fixed', value: '2.00' }).expect(201)).body.data;
      expectRefused(await send(admin, 'post', '/api/admin/promotions', { code: sellers.toLowerCase(), type: 'free_shipping' }), 409, 'PROMO_CODE_EXISTS');
      expectRefused(await send(seller, 'patch', `/api/seller/promotions/${own.id}`, { code: taken.toLowerCase() }), 409, 'PROMO_CODE_EXISTS');
      expect(await ownCodes(seller)).toEqual([sellers]);
    });

    it('refuses hostile input with 400 VALIDATION_ERROR and writes nothing', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const before = await platformCodes(admin);
      const valid = { code: code('bad'), type: 'percentage', value: '10' };
      const bodies = [
        { ...valid, value: 200 },
        { ...valid, value: '100.01' },
        { ...valid, value: 0 },
        { ...valid, value: '10.005' },
        { ...valid, type: 'fixed', value: '-5' },
        { ...valid, type: 'free_shipping', value: '5' },
        { ...valid, type: 'free_shipping', value: 0 },
        { code: valid.code, type: 'percentage' },
        { code: valid.code, type: 'fixed', value: null },
        { ...valid, startsAt: '2030-06-01T00:00:00Z', endsAt: '2030-05-01T00:00:00Z' },
        { ...valid, startsAt: '2030-06-01T00:00:00Z', endsAt: '2030-06-01T00:00:00Z' },
        { ...valid, endsAt: 'next week' },
        { ...valid, usedCount: 5 },
        { ...valid, sellerId: '5b0c1c43-8d7e-4f9a-9e43-2a1d3f7b9c10' },
        { ...valid, code: 'ab' },
        { ...valid, code: 'SUMMER 10' },
        { ...valid, type: 'bogo' },
        { ...valid, usageLimit: 0 },
        { ...valid, usageLimitPerCustomer: 1.5 },
        { ...valid, productIds: ['not-a-uuid'] },
        { ...valid, productIds: Array.from({ length: 101 }, () => '5b0c1c43-8d7e-4f9a-9e43-2a1d3f7b9c10') },
        { ...valid, categoryIds: ['5b0c1c43-8d7e-4f9a-9e43-2a1d3f7b9c10'] },
      ];
      for (const body of bodies) {
        const res = await send(admin, 'post', '/api/admin/promotions', body);
        expect([JSON.stringify(body).slice(0, 200), res.status, res.body.error.code]).toEqual([JSON.stringify(body).slice(0, 200), 400, 'VALIDATION_ERROR']);
      }
      expect(await platformCodes(admin)).toEqual(before);
      expect(await Promotion.count({ where: { code: valid.code } })).toBe(0);
    });

    it("keeps a seller's promotions to their own products and their own promotions", async () => {
      const seller = await signedInSeller(ctx.app);
      const other = await signedInSeller(ctx.app);
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const mine = await createProduct({ sellerId: seller.user.id });
      const gone = await createProduct({ sellerId: seller.user.id });
      await gone.destroy();
      const theirs = await createProduct({ sellerId: other.user.id });

      const foreign = await send(seller, 'post', '/api/seller/promotions', { code: code('mine'), type: 'fixed', value: '3', productIds: [mine.id, theirs.id] });
      expectRefused(foreign, 400, 'VALIDATION_ERROR');
      expect(foreign.body.error.details).toEqual([{ field: 'productIds', message: expect.any(String) }]);
      expectRefused(await send(seller, 'post', '/api/seller/promotions', { code: code('mine'), type: 'fixed', value: '3', productIds: [gone.id] }), 400, 'VALIDATION_ERROR');
      expect(await ownCodes(seller)).toEqual([]);

      const created = await send(seller, 'post', '/api/seller/promotions', { code: code('mine'), type: 'fixed', value: '3', productIds: [mine.id] });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({ sellerId: seller.user.id, productIds: [mine.id], value: '3.00' });
      const id = created.body.data.id;
      expectRefused(await send(seller, 'patch', `/api/seller/promotions/${id}`, { productIds: [theirs.id] }), 400, 'VALIDATION_ERROR');
      expect((await send(seller, 'patch', `/api/seller/promotions/${id}`, { productIds: null })).body.data.productIds).toBeNull();

      expectRefused(await send(other, 'patch', `/api/seller/promotions/${id}`, { value: '1' }), 404, 'PROMOTION_NOT_FOUND');
      expectRefused(await send(other, 'delete', `/api/seller/promotions/${id}`), 404, 'PROMOTION_NOT_FOUND');
      expect(await ownCodes(other)).toEqual([]);
      expect(await ownCodes(seller)).toEqual([created.body.data.code]);
      // The platform's list holds only platform promotions; a seller's are listed by sellerId.
      expect(await platformCodes(admin)).not.toContain(created.body.data.code);
      expect(await platformCodes(admin, { sellerId: seller.user.id })).toEqual([created.body.data.code]);

      const customer = await signedInUser(ctx.app);
      expectRefused(await send(customer, 'get', '/api/seller/promotions'), 403, 'INSUFFICIENT_PERMISSIONS');
      expectRefused(await send(customer, 'post', '/api/admin/promotions', { code: code('cust'), type: 'free_shipping' }), 403, 'INSUFFICIENT_PERMISSIONS');
      expectRefused(await send(seller, 'get', '/api/admin/promotions'), 403, 'INSUFFICIENT_PERMISSIONS');

      const deactivated = await send(seller, 'delete', `/api/seller/promotions/${id}`);
      expect(deactivated.body.data).toMatchObject({ id, active: false });
      expect(await Promotion.findByPk(id)).toMatchObject({ active: false });
    });

    it('answers 409 PROMO_LIMIT_BELOW_USES when the usage limit would fall below the uses taken', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const promotion = (await send(admin, 'post', '/api/admin/promotions', { code: code('lim'), type: 'percentage', value: '5', usageLimit: 10 }).expect(201)).body.data;
      await Promotion.update({ usedCount: 4 }, { where: { id: promotion.id } });
      expectRefused(await send(admin, 'patch', `/api/admin/promotions/${promotion.id}`, { usageLimit: 3 }), 409, 'PROMO_LIMIT_BELOW_USES');
      const lowered = await send(admin, 'patch', `/api/admin/promotions/${promotion.id}`, { usageLimit: 4 });
      expect(lowered.body.data).toMatchObject({ usageLimit: 4, usedCount: 4 });
    });
  });
});
