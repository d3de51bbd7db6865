import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { sendEmail } from '../../platform/jobs/email.job';
import { Order, OrderItem, User } from '../../models';
import { formatMoney, toMinor } from '../../platform/utils/money';

// The customer's order mails, recorded in the outbox with the transaction of the change they
// tell of (a payment confirmed the order; its last line shipped).

/** Lines as the customer's mails show them. */
function mailItems(items: Array<{ productName: string; quantity: number; lineTotal: string; unitPrice: string }>, currency: string) {
  return items.map((item) => ({
    name: item.productName,
    quantity: item.quantity,
    unitPrice: formatMoney(item.unitPrice, currency),
    lineTotal: formatMoney(item.lineTotal, currency),
  }));
}

/** The order with its lines and customer, and what every order mail opens with; undefined when it has no customer. */
async function orderMail(orderId: string, transaction: Transaction) {
  const order = await Order.findByPk(orderId, { include: [{ model: OrderItem, as: 'items' }, { model: User, as: 'user' }], transaction });
  if (!order?.user) return undefined;
  return { order, to: order.user.email, opening: { name: order.user.name, orderNumber: order.orderNumber, orderUrl: `${config.frontendUrl}/orders/${order.id}` } };
}

/** Records the customer's confirmation mail (in the outbox, with the transaction that confirmed the order). */
export async function recordConfirmationMail(orderId: string, transaction: Transaction): Promise<void> {
  const mail = await orderMail(orderId, transaction);
  if (!mail) return;
  const { order } = mail;
  const money = (amount: string) => formatMoney(amount, order.currency);
  await sendEmail(
    mail.to,
    'order-confirmation',
    {
      ...mail.opening,
      items: mailItems(order.items ?? [], order.currency),
      subtotal: money(order.subtotal),
      shipping: toMinor(order.shippingAmount) > 0 ? money(order.shippingAmount) : undefined,
      tax: toMinor(order.taxAmount) > 0 ? money(order.taxAmount) : undefined,
      discount: toMinor(order.discountAmount) > 0 ? money(order.discountAmount) : undefined,
      total: money(order.totalAmount),
    },
    transaction,
  );
}

/** One mail when the whole order has shipped, listing every parcel (a tracking number per seller shipment). */
export async function mailShipped(orderId: string, transaction: Transaction): Promise<void> {
  const mail = await orderMail(orderId, transaction);
  if (!mail) return;
  const parcels = new Map<string, { trackingNumber: string | null; trackingUrl: string | null; items: string[] }>();
  for (const item of mail.order.items ?? []) {
    if (item.fulfillmentStatus !== 'shipped' && item.fulfillmentStatus !== 'delivered') continue;
    const key = `${item.trackingNumber ?? ''}\u0000${item.trackingUrl ?? ''}`;
    const parcel = parcels.get(key) ?? { trackingNumber: item.trackingNumber, trackingUrl: item.trackingUrl, items: [] };
    parcel.items.push(`${item.productName} x ${item.quantity}`);
    parcels.set(key, parcel);
  }
  const shipments = [...parcels.values()].map((parcel) => ({ ...parcel, items: parcel.items.join(', ') }));
  await sendEmail(
    mail.to,
    'order-shipped',
    {
      ...mail.opening,
      ...(shipments.length === 1 ? { trackingNumber: shipments[0].trackingNumber ?? undefined, trackingUrl: shipments[0].trackingUrl ?? undefined } : { shipments }),
    },
    transaction,
  );
}
