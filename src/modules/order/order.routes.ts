import { orderController as controller } from './order.controller';
import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './order.schemas';

const ORDER = { $ref: '#/components/schemas/Order' };
const ORDER_DETAIL = { $ref: '#/components/schemas/OrderDetail' };
const ORDER_PAGE = { orders: { type: 'array', items: ORDER }, pagination: { $ref: '#/components/schemas/Pagination' } };

export const orderRoutes = new ApiRouter('/api/orders', 'Orders')
  .post(
    '/',
    {
      example: { shippingAddress: { firstName: 'Ada', lastName: 'Lovelace', address1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB', phone: '+44 20 7946 0000' }, notes: 'Leave at the door' },
      summary: 'Place your cart as an order',
      description:
        'One transaction: prices are read again and priced as POST /api/cart/quote prices them (shipping per seller: `shippingRates` or each seller\'s cheapest rate ' +
        "to the country; the destination's tax; the cart's promotion code, whose use is taken here, once), stock is taken atomically (never oversold), the cart is emptied. " +
        'Send an Idempotency-Key header to retry safely: the same key and body answer with the same order (header Idempotent-Replayed: true), ' +
        'another body with that key is 422. Keys are kept 24 hours. An unpaid order is cancelled after ORDER_PAYMENT_TIMEOUT_MINUTES.',
      status: 201,
      returns: 'the order with items',
      response: ORDER,
      errors: [
        '400 CART_EMPTY',
        '404 ADDRESS_NOT_FOUND',
        '409 INSUFFICIENT_STOCK',
        '409 PRODUCT_UNAVAILABLE',
        '409 SHIPPING_UNAVAILABLE',
        '409 PROMO_NOT_APPLICABLE',
        '422 IDEMPOTENCY_KEY_REUSED',
        '503 TRY_AGAIN',
      ],
      requestHeaders: [
        {
          name: 'Idempotency-Key',
          description: 'Any 1 to 255 visible ASCII characters, new for each order the client means to place (a UUID): a retry with the same key and body gets the same order',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
        },
      ],
      responseHeaders: {
        'Idempotent-Replayed': { description: 'true when an earlier request with the same Idempotency-Key placed this order', schema: { type: 'string', enum: ['true'] } },
      },
    },
    authenticate,
    validate(schemas.checkout),
    controller.checkout,
  )
  .get('/', { summary: 'Your orders, newest first', returns: 'orders, pagination', response: ORDER_PAGE }, authenticate, validate(schemas.list), controller.list)
  .get(
    '/:id',
    { summary: 'One of your orders (any, for an admin), with items and payment transactions', returns: 'the order', response: ORDER_DETAIL, errors: ['404 ORDER_NOT_FOUND'] },
    authenticate,
    validate(schemas.byId),
    controller.get,
  )
  .get(
    '/:id/history',
    {
      summary: 'Every status move of the order, oldest first, with who made it',
      returns: 'history',
      response: { history: { type: 'array', items: { $ref: '#/components/schemas/OrderHistoryEntry' } } },
      errors: ['404 ORDER_NOT_FOUND'],
    },
    authenticate,
    validate(schemas.byId),
    controller.history,
  )
  .post(
    '/:id/cancel',
    {
      example: { reason: 'Ordered the wrong size' },
      summary: 'Cancel a pending or confirmed order: its stock comes back, a paid order is refunded',
      returns: 'the order',
      response: ORDER_DETAIL,
      errors: ['404 ORDER_NOT_FOUND', '409 ORDER_NOT_CANCELLABLE'],
    },
    authenticate,
    validate(schemas.cancel),
    controller.cancel,
  );

export const adminOrderRoutes = new ApiRouter('/api/admin/orders', 'Admin: orders')
  .get(
    '/',
    { summary: 'Every order, filtered by status, customer, seller, or creation time (from, to)', returns: 'orders, pagination', response: ORDER_PAGE },
    authenticate,
    authorize('admin'),
    validate(schemas.adminList),
    controller.adminList,
  )
  .patch(
    '/:id/status',
    {
      example: { status: 'shipped', trackingNumber: '1Z999AA10123456784', trackingUrl: 'https://track.example.com/1Z999AA10123456784', note: 'Shipped from the central warehouse' },
      summary: 'Move an order (shipped mails the customer; cancelled restocks and refunds; refunded refunds)',
      description: 'Moves allowed: pending → confirmed (by a payment only) | cancelled; confirmed → processing | shipped | cancelled | refunded; processing → shipped | refunded; shipped → delivered | refunded; delivered → refunded.',
      returns: 'the order',
      response: ORDER_DETAIL,
      errors: ['404 ORDER_NOT_FOUND', '409 INVALID_STATUS_TRANSITION', '409 ORDER_NOT_CANCELLABLE', '409 ORDER_NOT_REFUNDABLE', '409 REFUND_EXCEEDS_PAYMENT', '502 PAYMENT_PROVIDER_ERROR'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.adminSetStatus),
    controller.adminSetStatus,
  );

const SELLER_ORDER = { $ref: '#/components/schemas/SellerOrder' };

export const sellerOrderRoutes = new ApiRouter('/api/seller/orders', 'Seller dashboard')
  .get(
    '/',
    {
      summary: 'Orders holding your lines (only those lines), newest first',
      returns: 'orders, pagination',
      response: { orders: { type: 'array', items: SELLER_ORDER }, pagination: { $ref: '#/components/schemas/Pagination' } },
    },
    authenticate,
    authorize('seller'),
    validate(schemas.sellerList),
    controller.sellerList,
  )
  .get(
    '/:id',
    { summary: 'One order with your lines and the shipping address', returns: 'the order', response: SELLER_ORDER, errors: ['404 ORDER_NOT_FOUND'] },
    authenticate,
    authorize('seller'),
    validate(schemas.byId),
    controller.sellerGet,
  )
  .patch(
    '/:id/items/fulfil',
    {
      example: { trackingNumber: '1Z999AA10123456784', trackingUrl: 'https://track.example.com/1Z999AA10123456784' },
      summary: 'Mark your lines of a paid order shipped (all of them, or itemIds), with tracking',
      description: 'When every line of the order has shipped, the order becomes shipped and the customer gets one mail with every tracking number.',
      returns: 'the order',
      response: SELLER_ORDER,
      errors: ['404 ORDER_NOT_FOUND', '404 ORDER_ITEM_NOT_FOUND', '409 ORDER_NOT_FULFILLABLE'],
    },
    authenticate,
    authorize('seller'),
    validate(schemas.fulfil),
    controller.fulfil,
  );
