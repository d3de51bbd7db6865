import { FULFILLMENT_STATUSES, ORDER_STATUSES, PAYMENT_PROVIDERS, PAYMENT_STATUSES, TRANSACTION_STATUSES } from '../models';

/**
 * OpenAPI schemas of what routes answer (the `data` of the envelope), so that generated clients
 * get types. Money is a string with two decimals.
 */

const money = { type: 'string', pattern: '^-?\\d+\\.\\d{2}$', example: '19.99' };
const uuid = { type: 'string', format: 'uuid' };
const timestamp = { type: 'string', format: 'date-time' };
const nullable = (schema: Record<string, unknown>) => ({ ...schema, nullable: true });
const object = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', required, properties });

const address = object(
  {
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    address1: { type: 'string' },
    address2: nullable({ type: 'string' }),
    city: { type: 'string' },
    state: nullable({ type: 'string' }),
    postalCode: { type: 'string' },
    country: { type: 'string', pattern: '^[A-Z]{2}$' },
    phone: nullable({ type: 'string' }),
  },
  ['firstName', 'lastName', 'address1', 'city', 'postalCode', 'country'],
);

const orderItem = object({
  id: uuid,
  productId: nullable(uuid),
  sellerId: uuid,
  productName: { type: 'string' },
  productSku: { type: 'string' },
  productImage: nullable({ type: 'string' }),
  unitPrice: money,
  quantity: { type: 'integer', minimum: 1 },
  lineTotal: money,
  refundedAmount: money,
  fulfillmentStatus: { type: 'string', enum: [...FULFILLMENT_STATUSES] },
  trackingNumber: nullable({ type: 'string' }),
  trackingUrl: nullable({ type: 'string' }),
});

const transaction = object({
  id: uuid,
  orderId: uuid,
  type: { type: 'string', enum: ['payment', 'refund'] },
  provider: { type: 'string', enum: [...PAYMENT_PROVIDERS] },
  providerReference: nullable({ type: 'string' }),
  amount: money,
  currency: { type: 'string' },
  status: { type: 'string', enum: [...TRANSACTION_STATUSES] },
  createdAt: timestamp,
});

const orderProperties = {
  id: uuid,
  orderNumber: { type: 'string', pattern: '^ORD-\\d{8}-[A-Z0-9]{6}$' },
  status: { type: 'string', enum: [...ORDER_STATUSES] },
  paymentStatus: { type: 'string', enum: [...PAYMENT_STATUSES] },
  paymentProvider: nullable({ type: 'string', enum: [...PAYMENT_PROVIDERS] }),
  currency: { type: 'string', example: 'usd' },
  subtotal: money,
  taxAmount: money,
  shippingAmount: money,
  discountAmount: money,
  totalAmount: money,
  amountPaid: money,
  amountRefunded: money,
  shippingAddress: { $ref: '#/components/schemas/Address' },
  billingAddress: nullable({ $ref: '#/components/schemas/Address' }),
  notes: nullable({ type: 'string' }),
  trackingNumber: nullable({ type: 'string' }),
  trackingUrl: nullable({ type: 'string' }),
  disputed: { type: 'boolean' },
  expiresAt: nullable(timestamp),
  paidAt: nullable(timestamp),
  shippedAt: nullable(timestamp),
  deliveredAt: nullable(timestamp),
  cancelledAt: nullable(timestamp),
  createdAt: timestamp,
  items: { type: 'array', items: { $ref: '#/components/schemas/OrderItem' } },
};

export const RESPONSE_SCHEMAS: Record<string, unknown> = {
  Pagination: object({ page: { type: 'integer' }, limit: { type: 'integer' }, total: { type: 'integer' }, totalPages: { type: 'integer' } }),
  Address: address,
  Cart: object({
    id: nullable(uuid),
    items: {
      type: 'array',
      items: object({
        id: uuid,
        product: object({
          id: uuid,
          name: { type: 'string' },
          slug: { type: 'string' },
          image: nullable({ type: 'string' }),
          price: money,
          stockQuantity: { type: 'integer' },
          status: { type: 'string', enum: ['draft', 'active', 'inactive', 'out_of_stock', 'deleted'] },
          sellerId: uuid,
        }),
        quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        unitPrice: money,
        lineTotal: money,
        available: { type: 'boolean', description: 'False when the product was withdrawn or lacks the stock: checkout refuses the cart then' },
      }),
    },
    itemCount: { type: 'integer', description: 'Units of the available items' },
    subtotal: money,
  }),
  OrderItem: orderItem,
  PaymentTransaction: transaction,
  Order: object(
    { ...orderProperties, transactions: { type: 'array', items: { $ref: '#/components/schemas/PaymentTransaction' } } },
    Object.keys(orderProperties),
  ),
  SellerOrder: object({
    id: uuid,
    orderNumber: orderProperties.orderNumber,
    status: orderProperties.status,
    paymentStatus: orderProperties.paymentStatus,
    currency: orderProperties.currency,
    shippingAddress: orderProperties.shippingAddress,
    notes: orderProperties.notes,
    paidAt: nullable(timestamp),
    shippedAt: nullable(timestamp),
    deliveredAt: nullable(timestamp),
    cancelledAt: nullable(timestamp),
    createdAt: timestamp,
    itemsTotal: money,
    items: orderProperties.items,
  }),
  OrderHistoryEntry: object({
    status: { type: 'string', enum: [...ORDER_STATUSES] },
    fromStatus: nullable({ type: 'string', enum: [...ORDER_STATUSES] }),
    note: nullable({ type: 'string' }),
    actor: object({ id: nullable(uuid), role: { type: 'string', enum: ['customer', 'seller', 'admin', 'system'] } }),
    createdAt: timestamp,
  }),
  PaymentIntent: object({
    provider: { type: 'string', enum: [...PAYMENT_PROVIDERS] },
    clientSecret: nullable({ type: 'string' }),
    paymentIntentId: nullable({ type: 'string' }),
    amount: money,
    currency: { type: 'string' },
  }),
};
