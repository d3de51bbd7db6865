import { Cart } from './cart.model';
import { CartItem } from './cart-item.model';
import { Category } from './category.model';
import { Dispute } from './dispute.model';
import { IdempotencyKey } from './idempotency-key.model';
import { Order } from './order.model';
import { OutboxMessage } from './outbox-message.model';
import { OrderItem } from './order-item.model';
import { OrderShipping } from './order-shipping.model';
import { Promotion } from './promotion.model';
import { PromotionUse } from './promotion-use.model';
import { ShippingRate } from './shipping-rate.model';
import { TaxRate } from './tax-rate.model';
import { OrderStatusHistory } from './order-status-history.model';
import { OrderStatusDay } from './order-status-day.model';
import { OrderStatusDelta } from './order-status-delta.model';
import { Product } from './product.model';
import { ProductVariant } from './product-variant.model';
import { Refund } from './refund.model';
import { Return } from './return.model';
import { ReturnItem } from './return-item.model';
import { ReturnStatusHistory } from './return-status-history.model';
import { Review } from './review.model';
import { SalesDay } from './sales-day.model';
import { SellerLedgerEntry } from './seller-ledger-entry.model';
import { SellerPayout } from './seller-payout.model';
import { SellerProfile } from './seller-profile.model';
import { UserAddress } from './user-address.model';
import { Transaction } from './transaction.model';
import { Upload } from './upload.model';
import { User } from './user.model';
import { UserSession } from './user-session.model';
import { WebhookDelivery } from './webhook-delivery.model';
import { WebhookEndpoint } from './webhook-endpoint.model';
import { WebhookEvent } from './webhook-event.model';

export * from './app-model';
export * from './enums';
export * from './cart.model';
export * from './cart-item.model';
export * from './category.model';
export * from './dispute.model';
export * from './idempotency-key.model';
export * from './order.model';
export * from './outbox-message.model';
export * from './order-item.model';
export * from './order-shipping.model';
export * from './promotion.model';
export * from './promotion-use.model';
export * from './shipping-rate.model';
export * from './tax-rate.model';
export * from './order-status-history.model';
export * from './order-status-day.model';
export * from './order-status-delta.model';
export * from './product.model';
export * from './product-variant.model';
export * from './refund.model';
export * from './return.model';
export * from './return-item.model';
export * from './return-status-history.model';
export * from './review.model';
export * from './sales-day.model';
export * from './seller-ledger-entry.model';
export * from './seller-payout.model';
export * from './seller-profile.model';
export * from './transaction.model';
export * from './upload.model';
export * from './user.model';
export * from './user-address.model';
export * from './user-session.model';
export * from './webhook-delivery.model';
export * from './webhook-endpoint.model';
export * from './webhook-event.model';

/** The payment Transaction model under a name that does not clash with Sequelize's Transaction. */
export { Transaction as PaymentTransaction } from './transaction.model';

/** Every model, bound to the Sequelize instance by src/platform/db/index.ts. */
export const models = [
  User,
  SellerProfile,
  Category,
  Product,
  ProductVariant,
  Cart,
  CartItem,
  SellerPayout,
  Order,
  OrderItem,
  OrderStatusHistory,
  Transaction,
  Refund,
  Review,
  UserSession,
  WebhookEvent,
  IdempotencyKey,
  Upload,
  OutboxMessage,
  SellerLedgerEntry,
  SalesDay,
  OrderStatusDay,
  OrderStatusDelta,
  Dispute,
  UserAddress,
  ShippingRate,
  TaxRate,
  Promotion,
  PromotionUse,
  OrderShipping,
  Return,
  ReturnItem,
  ReturnStatusHistory,
  WebhookEndpoint,
  WebhookDelivery,
];
