import request from 'supertest';
import { createProduct } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser, type SignedIn } from '../support/auth';

const ADDRESS = { firstName: 'Ada', lastName: 'Lovelace', address1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'gb' };
const HOME = { label: 'Home', ...ADDRESS };

describe('address book', () => {
  const ctx = useTestApp();

  const save = (user: SignedIn, body: object) => request(ctx.app).post('/api/me/addresses').set('Authorization', user.bearer).send(body);
  const list = async (user: SignedIn) => (await request(ctx.app).get('/api/me/addresses').set('Authorization', user.bearer).expect(200)).body.data.addresses;

  it('saves, lists, changes and deletes addresses; the first is the default for shipping and billing', async () => {
    const user = await signedInUser(ctx.app);
    const home = await save(user, HOME);
    expect(home.status).toBe(201);
    expect(home.body.data).toMatchObject({ label: 'Home', country: 'GB', address2: null, isDefaultShipping: true, isDefaultBilling: true });
    const work = await save(user, { ...HOME, label: 'Work', address1: '1 Canada Square', postalCode: 'E14 5AB' });
    expect(work.body.data).toMatchObject({ isDefaultShipping: false, isDefaultBilling: false });

    const moved = await request(ctx.app).patch(`/api/me/addresses/${work.body.data.id}`).set('Authorization', user.bearer).send({ isDefaultShipping: true, address2: 'Floor 3' });
    expect(moved.body.data).toMatchObject({ isDefaultShipping: true, address2: 'Floor 3' });
    const book = await list(user);
    expect(book.map((row: { label: string; isDefaultShipping: boolean; isDefaultBilling: boolean }) => [row.label, row.isDefaultShipping, row.isDefaultBilling])).toEqual([
      ['Home', false, true],
      ['Work', true, false],
    ]);

    await request(ctx.app).delete(`/api/me/addresses/${home.body.data.id}`).set('Authorization', user.bearer).expect(200);
    expect((await list(user)).map((row: { label: string }) => row.label)).toEqual(['Work']);
  });

  it("answers 404 for another user's address and refuses fields it does not know", async () => {
    const owner = await signedInUser(ctx.app);
    const other = await signedInUser(ctx.app);
    const saved = (await save(owner, HOME)).body.data;
    const patch = await request(ctx.app).patch(`/api/me/addresses/${saved.id}`).set('Authorization', other.bearer).send({ city: 'Paris' });
    expect([patch.status, patch.body.error.code]).toEqual([404, 'ADDRESS_NOT_FOUND']);
    const remove = await request(ctx.app).delete(`/api/me/addresses/${saved.id}`).set('Authorization', other.bearer);
    expect(remove.status).toBe(404);
    expect(await list(other)).toEqual([]);
    const unknown = await save(owner, { ...HOME, userId: other.user.id });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const badCountry = await save(owner, { ...HOME, country: 'XX' });
    expect(badCountry.status).toBe(400);
    expect(await request(ctx.app).get('/api/me/addresses').then((res) => res.status)).toBe(401);
  });

  it('holds 20 addresses and one default of each kind, also for requests at once', async () => {
    const user = await signedInUser(ctx.app);
    const answers = await Promise.all(Array.from({ length: 25 }, (_, index) => save(user, { ...HOME, label: `Place ${index}` })));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(20);
    expect(answers.filter((answer) => answer.status === 400).map((answer) => answer.body.error.code)).toEqual(Array(5).fill('ADDRESS_BOOK_FULL'));
    const book = await list(user);
    expect(book).toHaveLength(20);

    await Promise.all(
      book.slice(0, 8).map((row: { id: string }) =>
        request(ctx.app).patch(`/api/me/addresses/${row.id}`).set('Authorization', user.bearer).send({ isDefaultShipping: true, isDefaultBilling: true }).expect(200),
      ),
    );
    const after = await list(user);
    expect(after.filter((row: { isDefaultShipping: boolean }) => row.isDefaultShipping)).toHaveLength(1);
    expect(after.filter((row: { isDefaultBilling: boolean }) => row.isDefaultBilling)).toHaveLength(1);
  });

  it('checks out to a saved address by id, and the order keeps its copy when the address changes', async () => {
    const customer = await signedInUser(ctx.app);
    const saved = (await save(customer, { ...HOME, phone: '+44 20 7946 0000' })).body.data;
    const product = await createProduct({ stockQuantity: 5 });
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 }).expect(201);
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddressId: saved.id });
    expect(placed.status).toBe(201);
    expect(placed.body.data.shippingAddress).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      address1: '12 St James Square',
      address2: null,
      city: 'London',
      state: null,
      postalCode: 'SW1Y 4JH',
      country: 'GB',
      phone: '+44 20 7946 0000',
    });
    await request(ctx.app).patch(`/api/me/addresses/${saved.id}`).set('Authorization', customer.bearer).send({ city: 'Bath' }).expect(200);
    await request(ctx.app).delete(`/api/me/addresses/${saved.id}`).set('Authorization', customer.bearer).expect(200);
    const order = await request(ctx.app).get(`/api/orders/${placed.body.data.id}`).set('Authorization', customer.bearer);
    expect(order.body.data.shippingAddress.city).toBe('London');
  });

  it("refuses another user's saved address at checkout, and both an address and an id", async () => {
    const customer = await signedInUser(ctx.app);
    const stranger = await signedInUser(ctx.app);
    const theirs = (await save(stranger, HOME)).body.data;
    const product = await createProduct({ stockQuantity: 5 });
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 }).expect(201);
    const foreign = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddressId: theirs.id });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'ADDRESS_NOT_FOUND']);
    const both = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddressId: theirs.id, shippingAddress: ADDRESS });
    expect([both.status, both.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const neither = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ notes: 'no address' });
    expect(neither.status).toBe(400);
    // The cart is untouched: it still checks out.
    expect((await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS })).status).toBe(201);
  });
});
