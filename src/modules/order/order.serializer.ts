import type {
  Address,
  FulfillmentStatus,
  Order,
  OrderAttributes,
  OrderItemAttributes,
  OrderShippingAttributes,
  OrderStatus,
  PaymentProvider,
  PaymentStatus,
  PaymentTransaction,
} from '../../models';
import { fromMinor, toMinor } from '../../platform/utils/money';

/** The order and its parts as the contract shows them; money stays the "19.99" strings the database holds. */

export type OrderItemView = Pick<
  OrderItemAttributes,
  | 'id'
  | 'productId'
  | 'variantId'
  | 'sellerId'
  | 'productName'
  | 'variantTitle'
  | 'productSku'
  | 'productImage'
  | 'unitPrice'
  | 'quantity'
  | 'lineTotal'
  | 'discountAmount'
  | 'taxAmount'
  | 'refundedAmount'
  | 'returnedQuantity'
  | 'fulfillmentStatus'
  | 'trackingNumber'
  | 'trackingUrl'
>;

/** A seller's parcel of an order: the rate it ships at and what it cost. */
export type OrderShippingView = Pick<OrderShippingAttributes, 'sellerId' | 'rateId' | 'name' | 'estimatedDays' | 'amount' | 'discountAmount' | 'taxAmount'>;

export interface TransactionView {
  id: string;
  orderId: string;
  type: 'payment' | 'refund';
  provider: PaymentProvider;
  providerReference: string | null;
  amount: string;
  currency: string;
  status: string;
  /** A payment beyond the one that paid the order (or its refund): outside the order's amounts, refunded automatically. */
  surplus: boolean;
  createdAt: Date;
}

export type OrderView = Pick<
  OrderAttributes,
  | 'id'
  | 'orderNumber'
  | 'status'
  | 'paymentStatus'
  | 'paymentProvider'
  | 'currency'
  | 'subtotal'
  | 'taxAmount'
  | 'shippingAmount'
  | 'discountAmount'
  | 'totalAmount'
  | 'amountPaid'
  | 'amountRefunded'
  | 'promotionCode'
  | 'pricesIncludeTax'
  | 'shippingAddress'
  | 'billingAddress'
  | 'notes'
  | 'trackingNumber'
  | 'trackingUrl'
  | 'disputed'
  | 'expiresAt'
  | 'paidAt'
  | 'shippedAt'
  | 'deliveredAt'
  | 'cancelledAt'
  | 'createdAt'
> & {
  items: OrderItemView[];
  /** Each seller's parcel, by seller id. */
  shipping: OrderShippingView[];
  transactions?: TransactionView[];
};

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

/** A line as serializeOrder reads it: a model instance, or the row the checkout statement returned. */
type OrderItemRecord = OrderItemView & Pick<OrderItemAttributes, 'createdAt'>;

/** An order as serializeOrder reads it: a model instance (with its lines, maybe its transactions), or checkout's rows. */
type OrderRecord = Omit<OrderView, 'items' | 'shipping' | 'transactions'> & {
  items?: OrderItemRecord[];
  shipping?: OrderShippingView[];
  transactions?: PaymentTransaction[];
};

const byCreation = (a: OrderItemRecord, b: OrderItemRecord) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);

export function serializeOrderItem(item: OrderItemRecord): OrderItemView {
  return {
    id: item.id,
    productId: item.productId,
    variantId: item.variantId,
    sellerId: item.sellerId,
    productName: item.productName,
    variantTitle: item.variantTitle,
    productSku: item.productSku,
    productImage: item.productImage,
    unitPrice: item.unitPrice,
    quantity: item.quantity,
    lineTotal: item.lineTotal,
    discountAmount: item.discountAmount,
    taxAmount: item.taxAmount,
    refundedAmount: item.refundedAmount,
    returnedQuantity: item.returnedQuantity,
    fulfillmentStatus: item.fulfillmentStatus,
    trackingNumber: item.trackingNumber,
    trackingUrl: item.trackingUrl,
  };
}

export function serializeOrderShipping(parcel: OrderShippingView): OrderShippingView {
  return {
    sellerId: parcel.sellerId,
    rateId: parcel.rateId,
    name: parcel.name,
    estimatedDays: parcel.estimatedDays,
    amount: parcel.amount,
    discountAmount: parcel.discountAmount,
    taxAmount: parcel.taxAmount,
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
    surplus: transaction.surplus,
    createdAt: transaction.createdAt,
  };
}

/** The one view of an order. */
export function serializeOrder(order: Order | OrderRecord): OrderView {
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
    promotionCode: order.promotionCode,
    pricesIncludeTax: order.pricesIncludeTax,
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
    shipping: [...(order.shipping ?? [])].sort((a, b) => (a.sellerId < b.sellerId ? -1 : a.sellerId > b.sellerId ? 1 : 0)).map(serializeOrderShipping),
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

/** An orders row with its lines joined (`item_*` columns), as the checkout statement returns it. */
export interface PlacedOrderRow {
  id: string;
  order_number: string;
  status: OrderStatus;
  payment_status: PaymentStatus;
  payment_provider: PaymentProvider | null;
  currency: string;
  subtotal: string;
  tax_amount: string;
  shipping_amount: string;
  discount_amount: string;
  total_amount: string;
  amount_paid: string;
  amount_refunded: string;
  promotion_code: string | null;
  prices_include_tax: boolean;
  shipping_address: Address;
  billing_address: Address | null;
  notes: string | null;
  tracking_number: string | null;
  tracking_url: string | null;
  disputed: boolean;
  expires_at: Date | null;
  paid_at: Date | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
  cancelled_at: Date | null;
  created_at: Date;
  item_id: string;
  item_product_id: string | null;
  item_variant_id: string | null;
  item_seller_id: string;
  item_product_name: string;
  item_variant_title: string | null;
  item_product_sku: string;
  item_product_image: string | null;
  item_unit_price: string;
  item_quantity: number;
  item_line_total: string;
  item_discount_amount: string;
  item_tax_amount: string;
  item_refunded_amount: string;
  item_returned_quantity: number;
  item_fulfillment_status: FulfillmentStatus;
  item_tracking_number: string | null;
  item_tracking_url: string | null;
}

/** The view of an order from the rows of the statement that placed it (no read back), through serializeOrder. */
export function serializePlacedOrder(rows: PlacedOrderRow[], parcels: Array<{ sellerId: string; rateId: string | null; name: string; estimatedDays: number | null; amount: number; discount: number; tax: number }>): OrderView {
  const [order] = rows;
  return serializeOrder({
    id: order.id,
    orderNumber: order.order_number,
    status: order.status,
    paymentStatus: order.payment_status,
    paymentProvider: order.payment_provider,
    currency: order.currency,
    subtotal: order.subtotal,
    taxAmount: order.tax_amount,
    shippingAmount: order.shipping_amount,
    discountAmount: order.discount_amount,
    totalAmount: order.total_amount,
    amountPaid: order.amount_paid,
    amountRefunded: order.amount_refunded,
    promotionCode: order.promotion_code,
    pricesIncludeTax: order.prices_include_tax,
    shippingAddress: order.shipping_address,
    billingAddress: order.billing_address,
    notes: order.notes,
    trackingNumber: order.tracking_number,
    trackingUrl: order.tracking_url,
    disputed: order.disputed,
    expiresAt: order.expires_at,
    paidAt: order.paid_at,
    shippedAt: order.shipped_at,
    deliveredAt: order.delivered_at,
    cancelledAt: order.cancelled_at,
    createdAt: order.created_at,
    // One statement wrote every line: they share the order's creation time, and sort by id.
    items: rows.map((row) => ({
      id: row.item_id,
      productId: row.item_product_id,
      variantId: row.item_variant_id,
      sellerId: row.item_seller_id,
      productName: row.item_product_name,
      variantTitle: row.item_variant_title,
      productSku: row.item_product_sku,
      productImage: row.item_product_image,
      unitPrice: row.item_unit_price,
      quantity: row.item_quantity,
      lineTotal: row.item_line_total,
      discountAmount: row.item_discount_amount,
      taxAmount: row.item_tax_amount,
      refundedAmount: row.item_refunded_amount,
      returnedQuantity: row.item_returned_quantity,
      fulfillmentStatus: row.item_fulfillment_status,
      trackingNumber: row.item_tracking_number,
      trackingUrl: row.item_tracking_url,
      createdAt: order.created_at,
    })),
    shipping: parcels.map((parcel) => ({
      sellerId: parcel.sellerId,
      rateId: parcel.rateId,
      name: parcel.name,
      estimatedDays: parcel.estimatedDays,
      amount: fromMinor(parcel.amount),
      discountAmount: fromMinor(parcel.discount),
      taxAmount: fromMinor(parcel.tax),
    })),
  });
}
