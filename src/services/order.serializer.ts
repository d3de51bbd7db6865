import type { Address, FulfillmentStatus, Order, OrderItem, OrderStatus, PaymentProvider, PaymentStatus, PaymentTransaction } from '../models';
import { fromMinor, toMinor } from '../utils/money';

/** The order and its parts as the contract shows them; money stays the "19.99" strings the database holds. */

export interface OrderItemView {
  id: string;
  productId: string | null;
  sellerId: string;
  productName: string;
  productSku: string;
  productImage: string | null;
  unitPrice: string;
  quantity: number;
  lineTotal: string;
  refundedAmount: string;
  fulfillmentStatus: FulfillmentStatus;
  trackingNumber: string | null;
  trackingUrl: string | null;
}

export interface TransactionView {
  id: string;
  orderId: string;
  type: 'payment' | 'refund';
  provider: PaymentProvider;
  providerReference: string | null;
  amount: string;
  currency: string;
  status: string;
  createdAt: Date;
}

export interface OrderView {
  id: string;
  orderNumber: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  paymentProvider: PaymentProvider | null;
  currency: string;
  subtotal: string;
  taxAmount: string;
  shippingAmount: string;
  discountAmount: string;
  totalAmount: string;
  amountPaid: string;
  amountRefunded: string;
  shippingAddress: Address;
  billingAddress: Address | null;
  notes: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  disputed: boolean;
  expiresAt: Date | null;
  paidAt: Date | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
  items: OrderItemView[];
  transactions?: TransactionView[];
}

/** What a seller sees of an order: their own lines and where to ship them; no buyer email, no other seller's lines or totals. */
export interface SellerOrderView {
  id: string;
  orderNumber: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  currency: string;
  shippingAddress: Address;
  notes: string | null;
  paidAt: Date | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
  /** The sum of the seller's lines. */
  itemsTotal: string;
  items: OrderItemView[];
}

const byCreation = (a: OrderItem, b: OrderItem) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);

export function serializeOrderItem(item: OrderItem): OrderItemView {
  return {
    id: item.id,
    productId: item.productId,
    sellerId: item.sellerId,
    productName: item.productName,
    productSku: item.productSku,
    productImage: item.productImage,
    unitPrice: item.unitPrice,
    quantity: item.quantity,
    lineTotal: item.lineTotal,
    refundedAmount: item.refundedAmount,
    fulfillmentStatus: item.fulfillmentStatus,
    trackingNumber: item.trackingNumber,
    trackingUrl: item.trackingUrl,
  };
}

export function serializeTransaction(transaction: PaymentTransaction): TransactionView {
  return {
    id: transaction.id,
    orderId: transaction.orderId,
    type: transaction.type,
    provider: transaction.provider,
    providerReference: transaction.providerReference,
    amount: transaction.amount,
    currency: transaction.currency,
    status: transaction.status,
    createdAt: transaction.createdAt,
  };
}

export function serializeOrder(order: Order): OrderView {
  const view: OrderView = {
    id: order.id,
    orderNumber: order.orderNumber,
    status: order.status,
    paymentStatus: order.paymentStatus,
    paymentProvider: order.paymentProvider,
    currency: order.currency,
    subtotal: order.subtotal,
    taxAmount: order.taxAmount,
    shippingAmount: order.shippingAmount,
    discountAmount: order.discountAmount,
    totalAmount: order.totalAmount,
    amountPaid: order.amountPaid,
    amountRefunded: order.amountRefunded,
    shippingAddress: order.shippingAddress,
    billingAddress: order.billingAddress,
    notes: order.notes,
    trackingNumber: order.trackingNumber,
    trackingUrl: order.trackingUrl,
    disputed: order.disputed,
    expiresAt: order.expiresAt,
    paidAt: order.paidAt,
    shippedAt: order.shippedAt,
    deliveredAt: order.deliveredAt,
    cancelledAt: order.cancelledAt,
    createdAt: order.createdAt,
    items: [...(order.items ?? [])].sort(byCreation).map(serializeOrderItem),
  };
  if (order.transactions) {
    view.transactions = [...order.transactions]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map(serializeTransaction);
  }
  return view;
}

/** `order.items` must hold only this seller's lines. */
export function serializeSellerOrder(order: Order): SellerOrderView {
  const items = [...(order.items ?? [])].sort(byCreation);
  const total = items.reduce((sum, item) => sum + toMinor(item.lineTotal), 0);
  return {
    id: order.id,
    orderNumber: order.orderNumber,
    status: order.status,
    paymentStatus: order.paymentStatus,
    currency: order.currency,
    shippingAddress: order.shippingAddress,
    notes: order.notes,
    paidAt: order.paidAt,
    shippedAt: order.shippedAt,
    deliveredAt: order.deliveredAt,
    cancelledAt: order.cancelledAt,
    createdAt: order.createdAt,
    itemsTotal: fromMinor(total),
    items: items.map(serializeOrderItem),
  };
}
