import { objectSchema } from './openapi';
import { DISPUTE_STATUSES, FULFILLMENT_STATUSES, LEDGER_ENTRY_TYPES, ORDER_STATUSES, PAYMENT_PROVIDERS, PAYMENT_STATUSES, PAYOUT_STATUSES, PRODUCT_STATUSES, PROMOTION_TYPES, RETURN_STATUSES, TRANSACTION_STATUSES, WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, USER_ROLES, USER_STATUSES } from '../../models';

/**
 * OpenAPI 3.1 (JSON Schema 2020-12) schemas of what routes answer (the `data` of the envelope),
 * exact: every property named, the ones always sent required, so that generated clients get
 * types they can trust. Money is a string with two decimals.
 */

export const money = { type: 'string', pattern: '^-?\\d+\\.\\d{2}$', example: '19.99' };
const uuid = { type: 'string', format: 'uuid' };
const timestamp = { type: 'string', format: 'date-time' };
/** The schema or null, as JSON Schema 2020-12 says it (OpenAPI 3.1). */
export const nullable = (schema: Record<string, unknown>): Record<string, unknown> => {
  const { $ref, description, ...rest } = schema;
  if (typeof $ref === 'string') return { ...(description ? { description } : {}), anyOf: [{ $ref }, { type: 'null' }] };
  return {
    ...schema,
    type: [rest.type, 'null'],
    ...(Array.isArray(rest.enum) ? { enum: [...(rest.enum as unknown[]), null] } : {}),
  };
};

/** `{ $ref: '#/components/schemas/<name>' }`: what routes put in their doc's `response`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const listOf = (name: string) => ({ type: 'array', items: ref(name) });
/** The `response` of a paginated list route: `{ <key>: [...], pagination }`. */
export const pageOf = (key: string, name: string) => ({ [key]: listOf(name), pagination: ref('Pagination') });

// --- Accounts (src/modules/accounts/user.serializer.ts) ---------------------------------------------------

const sellerProfile = objectSchema(
  {
    id: uuid,
    storeName: { type: 'string' },
    storeSlug: { type: 'string' },
    storeDescription: nullable({ type: 'string' }),
    logoUrl: nullable({ type: 'string' }),
    approvedAt: nullable(timestamp),
    rejectedAt: nullable(timestamp),
    rejectionReason: nullable({ type: 'string' }),
    payoutDetails: nullable({ type: 'object', additionalProperties: true, description: 'The seller themself and admins only, e.g. {stripeAccountId}' }),
    commissionRate: nullable({ type: 'string', example: '0.1000', description: "The seller themself and admins only; null: the platform's rate" }),
  },
  ['id', 'storeName', 'storeSlug', 'storeDescription', 'logoUrl', 'approvedAt', 'rejectedAt', 'rejectionReason'],
);

const user = objectSchema(
  {
    id: uuid,
    email: { type: 'string', format: 'email' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...USER_ROLES] },
    status: { type: 'string', enum: [...USER_STATUSES] },
    avatarUrl: nullable({ type: 'string' }),
    emailVerified: { type: 'boolean' },
    lastLoginAt: nullable(timestamp),
    createdAt: timestamp,
    updatedAt: timestamp,
    suspendedReason: nullable({ type: 'string', description: 'Admins only' }),
    sellerProfile: nullable({ ...ref('SellerProfile'), description: 'Sellers, where the route loads it (admin views)' }),
  },
  ['id', 'email', 'name', 'role', 'status', 'avatarUrl', 'emailVerified', 'lastLoginAt', 'createdAt', 'updatedAt'],
);

// --- Catalog (src/modules/catalog/product.serializer.ts, category.service.ts, review.service.ts) ------------

const productSummaryProperties = {
  id: uuid,
  name: { type: 'string' },
  slug: { type: 'string' },
  shortDescription: nullable({ type: 'string' }),
  price: { ...money, description: 'The lowest price of its active variants (priceMin)' },
  priceMin: money,
  priceMax: money,
  comparePrice: nullable({ ...money, description: 'The compare price of its cheapest active variant' }),
  discountPercentage: { type: 'integer', minimum: 0, maximum: 100, description: 'Off comparePrice, rounded; 0 without one' },
  inStock: { type: 'boolean', description: 'Some active variant has stock' },
  stockQuantity: { type: 'integer', minimum: 0, description: 'Units over its active variants' },
  status: { type: 'string', enum: [...PRODUCT_STATUSES] },
  images: { type: 'array', items: { type: 'string' } },
  tags: { type: 'array', items: { type: 'string' } },
  averageRating: { type: 'number', minimum: 0, maximum: 5 },
  reviewCount: { type: 'integer', minimum: 0 },
  viewCount: { type: 'integer', minimum: 0 },
  createdAt: timestamp,
  seller: objectSchema({ id: uuid, name: nullable({ type: 'string' }), storeName: nullable({ type: 'string' }) }),
  category: nullable(objectSchema({ id: uuid, name: { type: 'string' }, slug: { type: 'string' } })),
};
const productOwnerProperties = {
  sku: nullable({ type: 'string', description: "Its only variant's SKU; null with several variants. Listings show it to the owner and admins only" }),
  costPrice: nullable({ ...money, description: "The owner and admins only; its only variant's" }),
  lowStockThreshold: { type: 'integer', minimum: 0, description: 'The owner and admins only' },
};

const variantOptions = { type: 'object', additionalProperties: { type: 'string' }, example: { Size: 'M', Color: 'Navy' } };

const variant = objectSchema(
  {
    id: uuid,
    sku: { type: 'string' },
    title: { type: 'string', example: 'M / Navy' },
    options: variantOptions,
    price: money,
    comparePrice: nullable(money),
    stockQuantity: { type: 'integer', minimum: 0 },
    inStock: { type: 'boolean' },
    images: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'inactive'] },
    costPrice: nullable({ ...money, description: 'The owner and admins only' }),
    lowStockThreshold: { type: 'integer', minimum: 0, description: 'The owner and admins only' },
  },
  ['id', 'sku', 'title', 'options', 'price', 'comparePrice', 'stockQuantity', 'inStock', 'images', 'status'],
);

const productDetailProperties = {
  ...productSummaryProperties,
  ...productOwnerProperties,
  options: {
    type: 'array',
    items: objectSchema({ name: { type: 'string' }, values: { type: 'array', items: { type: 'string' } } }),
    description: 'Up to 3; empty for a product sold as one default variant',
  },
  variants: { type: 'array', items: ref('Variant'), description: 'Active variants; the owner and admins see inactive ones too' },
  description: nullable({ type: 'string' }),
  weight: nullable({ type: 'string', pattern: '^\\d+\\.\\d{2}$', example: '1.25' }),
  dimensions: nullable({
    type: 'object',
    properties: { length: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' }, unit: { type: 'string', enum: ['mm', 'cm', 'm', 'in', 'ft'] } },
  }),
  seoTitle: nullable({ type: 'string' }),
  seoDescription: nullable({ type: 'string' }),
  updatedAt: timestamp,
};

const categoryProperties = {
  id: uuid,
  name: { type: 'string' },
  slug: { type: 'string' },
  description: nullable({ type: 'string' }),
  parentId: nullable(uuid),
  imageUrl: nullable({ type: 'string' }),
  sortOrder: { type: 'integer' },
};

const addressProperties = {
  firstName: { type: 'string' },
  lastName: { type: 'string' },
  address1: { type: 'string' },
  address2: nullable({ type: 'string' }),
  city: { type: 'string' },
  state: nullable({ type: 'string' }),
  postalCode: { type: 'string' },
  country: { type: 'string', pattern: '^[A-Z]{2}$' },
  phone: nullable({ type: 'string' }),
};

const address = objectSchema(
  addressProperties,
  ['firstName', 'lastName', 'address1', 'city', 'postalCode', 'country'],
);

const orderItem = objectSchema({
  id: uuid,
  productId: nullable(uuid),
  variantId: nullable(uuid),
  sellerId: uuid,
  productName: { type: 'string' },
  variantTitle: nullable({ type: 'string', description: 'The variant sold ("M / Red"; "Default" for a product without options)' }),
  productSku: { type: 'string', description: "The variant's SKU when sold" },
  productImage: nullable({ type: 'string' }),
  unitPrice: money,
  quantity: { type: 'integer', minimum: 1 },
  lineTotal: { ...money, description: 'unitPrice × quantity, before the discount' },
  discountAmount: { ...money, description: "The line's share of the order's discount" },
  taxAmount: { ...money, description: 'Tax on the discounted line (inside the price when the order has pricesIncludeTax)' },
  refundedAmount: { ...money, description: "The refunded part of what the line's seller is credited for it (the money rules' refunded amount)" },
  returnedQuantity: { type: 'integer', minimum: 0, description: 'Units in returns not rejected' },
  fulfillmentStatus: { type: 'string', enum: [...FULFILLMENT_STATUSES] },
  trackingNumber: nullable({ type: 'string' }),
  trackingUrl: nullable({ type: 'string' }),
});

const transaction = objectSchema({
  id: uuid,
  orderId: uuid,
  type: { type: 'string', enum: ['payment', 'refund'] },
  provider: { type: 'string', enum: [...PAYMENT_PROVIDERS] },
  providerReference: nullable({ type: 'string' }),
  amount: money,
  currency: { type: 'string' },
  status: { type: 'string', enum: [...TRANSACTION_STATUSES] },
  surplus: { type: 'boolean', description: 'A payment beyond the one that paid the order, or its refund: outside the order amounts, refunded automatically' },
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
  promotionCode: nullable({ type: 'string', description: 'The promotion code the order was placed with' }),
  pricesIncludeTax: { type: 'boolean', description: 'True: taxAmount is the part of the prices that is tax, and totalAmount = subtotal − discountAmount + shippingAmount' },
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
  shipping: { type: 'array', items: { $ref: '#/components/schemas/OrderShipping' }, description: "Each seller's parcel, by seller id" },
};

const shippingLine = objectSchema({
  sellerId: uuid,
  rateId: nullable({ ...uuid, description: "The seller's rate; null: the platform default of a seller without rates" }),
  name: { type: 'string' },
  estimatedDays: nullable({ type: 'integer' }),
  amount: { ...money, description: "The rate's price for this parcel (0 from its free-over threshold)" },
  discountAmount: { ...money, description: 'What a free-shipping code took off' },
  taxAmount: money,
});

const webhookEndpoint = {
  id: uuid,
  url: { type: 'string' },
  events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } },
  active: { type: 'boolean' },
  description: nullable({ type: 'string' }),
  failingSince: nullable({ ...timestamp, description: 'The first failed delivery since the last success' }),
  createdAt: timestamp,
};

export const RESPONSE_SCHEMAS: Record<string, unknown> = {
  Pagination: objectSchema({ page: { type: 'integer' }, limit: { type: 'integer' }, total: { type: 'integer' }, totalPages: { type: 'integer' } }),
  User: user,
  SellerProfile: sellerProfile,
  ProductSummary: objectSchema(
    { ...productSummaryProperties, ...productOwnerProperties },
    Object.keys(productSummaryProperties),
  ),
  Product: objectSchema(productDetailProperties, [
    ...Object.keys(productSummaryProperties),
    'sku',
    'description',
    'weight',
    'dimensions',
    'options',
    'variants',
    'seoTitle',
    'seoDescription',
    'updatedAt',
  ]),
  Variant: variant,
  Category: objectSchema(categoryProperties),
  CategoryNode: objectSchema({ ...categoryProperties, children: listOf('CategoryNode') }),
  CategoryDetail: objectSchema({
    ...categoryProperties,
    children: listOf('CategoryNode'),
    productCount: { type: 'integer', minimum: 0, description: 'Listed products (active or sold out) of the category and its sub-categories' },
  }),
  Review: objectSchema({
    id: uuid,
    productId: uuid,
    rating: { type: 'integer', minimum: 1, maximum: 5 },
    title: nullable({ type: 'string' }),
    comment: { type: 'string' },
    isVerifiedPurchase: { type: 'boolean' },
    user: nullable(objectSchema({ id: uuid, name: { type: 'string' } })),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  ProductRating: objectSchema({
    id: uuid,
    averageRating: { type: 'number', minimum: 0, maximum: 5, example: 4.5 },
    reviewCount: { type: 'integer', minimum: 0 },
  }),
  Upload: objectSchema({
    url: { type: 'string', format: 'uri' },
    publicId: { type: 'string' },
    width: nullable({ type: 'integer' }),
    height: nullable({ type: 'integer' }),
    format: { type: 'string', example: 'webp' },
    bytes: { type: 'integer', minimum: 0 },
  }),
  Address: address,
  SavedAddress: objectSchema({
    id: uuid,
    label: nullable({ type: 'string' }),
    ...addressProperties,
    isDefaultShipping: { type: 'boolean' },
    isDefaultBilling: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  Cart: objectSchema({
    id: nullable(uuid),
    items: {
      type: 'array',
      items: objectSchema({
        id: uuid,
        product: {
          description: "The product, with its price and stock those of the line's variant",
          ...objectSchema({
            id: uuid,
            name: { type: 'string' },
            slug: { type: 'string' },
            image: nullable({ type: 'string' }),
            price: money,
            stockQuantity: { type: 'integer' },
            status: { type: 'string', enum: [...PRODUCT_STATUSES, 'deleted'] },
            sellerId: uuid,
          }),
        },
        variant: objectSchema({ id: uuid, sku: { type: 'string' }, title: { type: 'string' }, options: variantOptions }),
        quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        unitPrice: money,
        lineTotal: money,
        available: { type: 'boolean', description: 'False when the product or variant was withdrawn or lacks the stock: checkout refuses the cart then' },
      }),
    },
    itemCount: { type: 'integer', description: 'Units of the available items' },
    subtotal: money,
    promoCode: nullable({ type: 'string', description: 'The promotion code the cart carries; checkout checks it again' }),
  }),
  Quote: objectSchema({
    subtotal: money,
    discountAmount: money,
    shippingAmount: money,
    taxAmount: money,
    totalAmount: money,
    pricesIncludeTax: { type: 'boolean' },
    promoCode: nullable({ type: 'string' }),
    shipping: { type: 'array', items: { $ref: '#/components/schemas/OrderShipping' } },
    lines: {
      type: 'array',
      items: objectSchema({ itemId: uuid, unitPrice: money, quantity: { type: 'integer' }, lineTotal: money, discountAmount: money, taxAmount: money }),
    },
  }),
  OrderShipping: shippingLine,
  WebhookEndpoint: objectSchema(webhookEndpoint),
  WebhookEndpointWithSecret: objectSchema({ ...webhookEndpoint, secret: { type: 'string', description: 'whsec_…: shown here only' } }),
  WebhookDelivery: objectSchema({
    id: uuid,
    eventId: { ...uuid, description: 'Webhook-Id: the same on every retry' },
    type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    status: { type: 'string', enum: [...WEBHOOK_DELIVERY_STATUSES] },
    attempts: { type: 'integer' },
    lastStatusCode: nullable({ type: 'integer' }),
    lastError: nullable({ type: 'string' }),
    nextAttemptAt: nullable(timestamp),
    createdAt: timestamp,
  }),

  Return: objectSchema({
    id: uuid,
    orderId: uuid,
    sellerId: uuid,
    status: { type: 'string', enum: [...RETURN_STATUSES] },
    note: nullable({ type: 'string' }),
    items: { type: 'array', items: objectSchema({ orderItemId: uuid, quantity: { type: 'integer', minimum: 1 }, reason: { type: 'string' } }) },
    refundAmount: { ...money, description: 'What is refunded for it (set when it is received)' },
    restock: nullable({ type: 'boolean', description: 'Whether receiving it put the units back in stock' }),
    createdAt: timestamp,
    history: {
      type: 'array',
      items: objectSchema({
        status: { type: 'string', enum: [...RETURN_STATUSES] },
        fromStatus: nullable({ type: 'string', enum: [...RETURN_STATUSES] }),
        note: nullable({ type: 'string' }),
        actor: objectSchema({ id: nullable(uuid), role: { type: 'string', enum: ['customer', 'seller', 'admin', 'system'] } }),
        createdAt: timestamp,
      }),
    },
  }),
  OrderItem: orderItem,
  PaymentTransaction: transaction,
  Order: objectSchema(
    { ...orderProperties, transactions: { type: 'array', items: { $ref: '#/components/schemas/PaymentTransaction' } } },
    Object.keys(orderProperties),
  ),
  /** One order as its own reads and moves answer it: with its payment and refund transactions, always. */
  OrderDetail: objectSchema({ ...orderProperties, transactions: { type: 'array', items: { $ref: '#/components/schemas/PaymentTransaction' } } }),
  SellerOrder: objectSchema({
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
  OrderHistoryEntry: objectSchema({
    status: { type: 'string', enum: [...ORDER_STATUSES] },
    fromStatus: nullable({ type: 'string', enum: [...ORDER_STATUSES] }),
    note: nullable({ type: 'string' }),
    actor: objectSchema({ id: nullable(uuid), role: { type: 'string', enum: ['customer', 'seller', 'admin', 'system'] } }),
    createdAt: timestamp,
  }),
  PaymentIntent: objectSchema({
    provider: { type: 'string', enum: [...PAYMENT_PROVIDERS] },
    clientSecret: nullable({ type: 'string' }),
    paymentIntentId: nullable({ type: 'string' }),
    amount: money,
    currency: { type: 'string' },
  }),
  Payout: objectSchema({
    id: uuid,
    sellerId: uuid,
    periodStart: timestamp,
    periodEnd: timestamp,
    grossAmount: money,
    commissionAmount: money,
    refundAmount: money,
    netAmount: money,
    currency: { type: 'string' },
    status: { type: 'string', enum: [...PAYOUT_STATUSES] },
    paidAt: nullable(timestamp),
    reference: nullable({ type: 'string' }),
    itemCount: { type: 'integer' },
    transferId: nullable({ type: 'string' }),
    failureReason: nullable({ type: 'string' }),
    createdAt: timestamp,
  }),
  LedgerEntry: objectSchema({
    id: uuid,
    type: { type: 'string', enum: [...LEDGER_ENTRY_TYPES] },
    amount: { ...money, description: 'Signed: what the seller is credited is positive' },
    orderId: nullable(uuid),
    orderItemId: nullable(uuid),
    payoutId: nullable(uuid),
    createdAt: timestamp,
  }),
  Balance: objectSchema({ pending: money, available: money, paidOut: money }),
  Dispute: objectSchema({
    id: uuid,
    orderId: uuid,
    orderNumber: { type: 'string' },
    providerDisputeId: { type: 'string' },
    paymentReference: { type: 'string', description: 'The disputed payment at the provider' },
    amount: money,
    currency: { type: 'string' },
    reason: nullable({ type: 'string' }),
    status: { type: 'string', enum: [...DISPUTE_STATUSES], description: "open: the order's lines are not payable; won: released; lost: the sellers' net share taken back" },
    closedAt: nullable(timestamp),
    createdAt: timestamp,
  }),
  SellerStats: objectSchema({
    salesCount: { type: 'integer' },
    unitsSold: { type: 'integer' },
    grossRevenue: { ...money, description: 'What you were credited for your lines (less your own promotions)' },
    shipping: { ...money, description: 'Shipping you were credited' },
    commission: money,
    refunds: { ...money, description: 'Taken back by refunds: lines and shipping' },
    netEarnings: { ...money, description: 'grossRevenue + shipping − refunds − commission' },
    balance: ref('Balance'),
    lowStockProducts: {
      type: 'array',
      description: 'Active variants at or below their low-stock threshold (id is the product)',
      items: objectSchema({
        id: uuid,
        name: { type: 'string' },
        variantId: uuid,
        variantTitle: { type: 'string' },
        sku: { type: 'string' },
        stockQuantity: { type: 'integer' },
        lowStockThreshold: { type: 'integer' },
      }),
    },
  }),
  StatsOverview: objectSchema({
    grossSales: money,
    refunds: money,
    netSales: money,
    commission: money,
    discounts: {
      description: "The period's discounts by who bears them: grossSales = Σ sellers' (grossRevenue + shipping) + tax − discounts.platform",
      ...objectSchema({ platform: money, seller: money }),
    },
    shipping: { ...money, description: 'Shipping credited to sellers' },
    tax: money,
    orderCount: { type: 'integer' },
    ordersByStatus: { type: 'object', additionalProperties: { type: 'integer' } },
    averageOrderValue: money,
    newCustomers: { type: 'integer' },
    newSellers: { type: 'integer' },
    pendingPayouts: money,
  }),
  SalesBucket: objectSchema({ period: timestamp, orderCount: { type: 'integer' }, grossSales: money, refunds: money, netSales: money, commission: money }),
  TopProduct: objectSchema({ productId: nullable(uuid), name: { type: 'string' }, unitsSold: { type: 'integer' }, grossRevenue: money }),
  TopSeller: objectSchema({
    sellerId: uuid,
    name: { type: 'string' },
    storeName: nullable({ type: 'string' }),
    unitsSold: { type: 'integer' },
    grossRevenue: money,
    shipping: { ...money, description: 'Shipping the seller was credited' },
    commission: money,
    netEarnings: { ...money, description: 'grossRevenue + shipping − refunds − commission' },
  }),
  ShippingRate: objectSchema({
    id: uuid,
    name: { type: 'string' },
    countries: { type: 'array', items: { type: 'string', pattern: '^([A-Z]{2}|\\*)$' }, description: 'ISO 3166-1 alpha-2 codes, or ["*"] for everywhere' },
    price: money,
    freeOver: nullable({ ...money, description: "Free from this discounted subtotal of the seller's lines" }),
    estimatedDays: nullable({ type: 'integer', minimum: 0, maximum: 365 }),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  TaxRate: objectSchema({
    id: uuid,
    country: { type: 'string', pattern: '^[A-Z]{2}$' },
    state: nullable({ type: 'string', description: 'Upper case; null: the whole country' }),
    rate: { type: 'string', pattern: '^[01]\\.\\d{4}$', example: '0.0825' },
    name: { type: 'string' },
    appliesToShipping: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  Promotion: objectSchema({
    id: uuid,
    code: { type: 'string', pattern: '^[A-Z0-9_-]{3,50}$' },
    sellerId: nullable({ ...uuid, description: "The seller whose lines it discounts; null: the platform's" }),
    type: { type: 'string', enum: [...PROMOTION_TYPES] },
    value: nullable({ ...money, example: '10.00', description: 'The percent off (percentage), the amount off (fixed); null for free_shipping' }),
    minSubtotal: nullable(money),
    startsAt: nullable(timestamp),
    endsAt: nullable(timestamp),
    usageLimit: nullable({ type: 'integer', minimum: 1 }),
    usageLimitPerCustomer: nullable({ type: 'integer', minimum: 1 }),
    productIds: nullable({ type: 'array', items: uuid }),
    categoryIds: nullable({ type: 'array', items: uuid }),
    active: { type: 'boolean' },
    usedCount: { type: 'integer', minimum: 0, description: 'Uses taken by orders and not given back' },
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
};
