/**
 * The values of every PostgreSQL enum type, in the order of the migration. Kept apart from the
 * model files because several models use the same list at class definition time (the model
 * files import each other, so a constant read from another model file could still be undefined).
 */

export const USER_ROLES = ['customer', 'seller', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const USER_STATUSES = ['pending', 'approved', 'rejected', 'suspended'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** `suspended`: the product of a suspended seller (it goes back to `statusBeforeSuspension` on reinstatement). */
export const PRODUCT_STATUSES = ['draft', 'active', 'inactive', 'out_of_stock', 'suspended'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const PAYMENT_STATUSES = ['unpaid', 'paid', 'partially_refunded', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_PROVIDERS = ['stripe', 'manual'] as const;
export type PaymentProvider = (typeof PAYMENT_PROVIDERS)[number];

export const FULFILLMENT_STATUSES = ['unfulfilled', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export type FulfillmentStatus = (typeof FULFILLMENT_STATUSES)[number];

/** Who moved an order: a user of that role, or the system (expiry job, webhooks). */
export const HISTORY_ACTOR_ROLES = ['customer', 'seller', 'admin', 'system'] as const;
export type HistoryActorRole = (typeof HISTORY_ACTOR_ROLES)[number];

export const TRANSACTION_TYPES = ['payment', 'refund'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export const TRANSACTION_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const PAYOUT_STATUSES = ['pending', 'paid', 'cancelled'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** `shipping`: shipping credited to a seller (positive), or taken back with a refund (negative). */
export const LEDGER_ENTRY_TYPES = ['sale', 'commission', 'refund', 'payout', 'dispute', 'shipping'] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

export const DISPUTE_STATUSES = ['open', 'won', 'lost'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export const WEBHOOK_EVENT_STATUSES = ['received', 'processed', 'failed'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

export const UPLOAD_PROVIDERS = ['local', 'cloudinary'] as const;
export type UploadProvider = (typeof UPLOAD_PROVIDERS)[number];

export const PROMOTION_TYPES = ['percentage', 'fixed', 'free_shipping'] as const;
export type PromotionType = (typeof PROMOTION_TYPES)[number];

/** Who bears an order's discount: the platform (sellers are credited undiscounted lines) or the seller whose code it is. */
export const DISCOUNT_FUNDERS = ['platform', 'seller'] as const;
export type DiscountFunder = (typeof DISCOUNT_FUNDERS)[number];

/** A return's states: requested → approved | rejected, approved → received, received → refunded. */
export const RETURN_STATUSES = ['requested', 'approved', 'rejected', 'received', 'refunded'] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

/** The events integrations may subscribe to (outgoing webhooks). */
export const WEBHOOK_EVENT_TYPES = [
  'order.created',
  'order.paid',
  'order.cancelled',
  'order.shipped',
  'order.delivered',
  'order.refunded',
  'return.requested',
  'return.refunded',
  'product.created',
  'product.updated',
  'product.deleted',
  'product.low_stock',
  'payout.paid',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
