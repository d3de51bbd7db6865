import request from 'supertest';
import { useTestApp } from '../support/app';

/**
 * The routes of the API contract, in OpenAPI path form. `served` routes must be in the published
 * OpenAPI document; the document must hold no route outside this list. A route moves from
 * planned to served in the change that builds it.
 */
const CONTRACT: Record<string, 'served' | 'planned'> = {
  'POST /api/auth/register': 'served',
  'POST /api/auth/login': 'served',
  'POST /api/auth/refresh-token': 'served',
  'POST /api/auth/logout': 'served',
  'GET /api/auth/me': 'served',
  'PATCH /api/auth/me': 'served',
  'POST /api/auth/change-password': 'served',
  'POST /api/auth/forgot-password': 'served',
  'POST /api/auth/reset-password': 'served',
  'POST /api/auth/verify-email': 'served',
  'POST /api/auth/resend-verification': 'served',

  'GET /api/categories': 'served',
  'GET /api/categories/{idOrSlug}': 'served',
  'POST /api/categories': 'served',
  'PATCH /api/categories/{id}': 'served',
  'DELETE /api/categories/{id}': 'served',
  'GET /api/products': 'served',
  'GET /api/products/search': 'served',
  'GET /api/products/{idOrSlug}': 'served',
  'GET /api/products/{id}/related': 'served',
  'POST /api/products': 'served',
  'PATCH /api/products/{id}': 'served',
  'DELETE /api/products/{id}': 'served',
  'GET /api/products/{id}/reviews': 'served',
  'POST /api/products/{id}/reviews': 'served',
  'PATCH /api/reviews/{id}': 'served',
  'DELETE /api/reviews/{id}': 'served',

  'GET /api/cart': 'served',
  'POST /api/cart': 'served',
  'POST /api/cart/items': 'served',
  'PATCH /api/cart/items/{itemId}': 'served',
  'DELETE /api/cart/items/{itemId}': 'served',
  'DELETE /api/cart': 'served',

  'POST /api/orders': 'served',
  'GET /api/orders': 'served',
  'GET /api/orders/{id}': 'served',
  'GET /api/orders/{id}/history': 'served',
  'POST /api/orders/{id}/cancel': 'served',

  'POST /api/payments/create-intent': 'served',
  'POST /api/payments/confirm': 'served',
  'GET /api/payments/orders/{orderId}': 'served',
  'POST /api/webhooks/stripe': 'served',

  'POST /api/upload/image': 'served',
  'POST /api/upload/images': 'served',
  'DELETE /api/upload/{publicId}': 'served',

  'GET /api/seller/profile': 'served',
  'PATCH /api/seller/profile': 'served',
  'GET /api/seller/products': 'served',
  'GET /api/seller/orders': 'served',
  'GET /api/seller/orders/{id}': 'served',
  'PATCH /api/seller/orders/{id}/items/fulfil': 'served',
  'GET /api/seller/payouts': 'planned',
  'GET /api/seller/stats': 'planned',

  'GET /api/admin/users': 'served',
  'GET /api/admin/users/{id}': 'served',
  'PATCH /api/admin/users/{id}/status': 'served',
  'GET /api/admin/sellers': 'served',
  'POST /api/admin/sellers/{id}/approve': 'served',
  'POST /api/admin/sellers/{id}/reject': 'served',
  'GET /api/admin/orders': 'served',
  'PATCH /api/admin/orders/{id}/status': 'served',
  'POST /api/admin/orders/{id}/mark-paid': 'served',
  'POST /api/admin/orders/{id}/refund': 'served',
  'GET /api/admin/transactions': 'served',
  'GET /api/admin/payouts': 'planned',
  'POST /api/admin/payouts/run': 'planned',
  'POST /api/admin/payouts/{id}/mark-paid': 'planned',
  'GET /api/admin/stats/overview': 'planned',
  'GET /api/admin/stats/sales': 'planned',
  'GET /api/admin/stats/top-products': 'planned',
  'GET /api/admin/stats/top-sellers': 'planned',

  'GET /health': 'served',
  'GET /ready': 'served',
  'GET /metrics': 'served',
  'GET /api/openapi.json': 'served',
  'GET /api/docs': 'served',
};

describe('OpenAPI document', () => {
  const ctx = useTestApp();

  it('holds every served route of the contract, and nothing outside it', async () => {
    const res = await request(ctx.app).get('/api/openapi.json');
    const published = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = Object.entries(CONTRACT)
      .filter(([, state]) => state === 'served')
      .map(([route]) => route);
    expect(published.filter((route) => !(route in CONTRACT))).toEqual([]);
    expect(served.filter((route) => !published.includes(route))).toEqual([]);
  });

  it('documents request bodies, parameters, security and error answers', async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    const register = body.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.properties).toHaveProperty('email');
    expect(register.responses).toHaveProperty('201');
    expect(register.responses['409'].description).toContain('USER_EXISTS');
    const users = body.paths['/api/admin/users'].get;
    expect(users.security).toEqual([{ bearer: [] }]);
    expect(users.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page', 'limit', 'role', 'status', 'search']));
    expect(users.responses).toHaveProperty('403');
    const user = body.paths['/api/admin/users/{id}'].get;
    expect(user.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true })]));
  });
});
