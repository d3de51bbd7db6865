import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { PaymentProviderError } from '../../platform/payments';
import type { OrderStatus } from '../../models';
import { UpstreamError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';

/** What the payment services share: the order row they lock, and how they read it. */
export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  payment_status: string;
  payment_provider: 'stripe' | 'manual' | null;
  payment_intent_id: string | null;
  intent_attempt: number;
  total_amount: string;
  amount_paid: string;
  amount_refunded: string;
  currency: string;
}

/** The card payment transaction of an intent (`$intentId`), as a condition on `transactions t`. */
export const CARD_PAYMENT = "t.provider = 'stripe' AND t.type = 'payment' AND t.provider_reference = $intentId";

export const ORDER_COLUMNS = 'id, user_id, status, payment_status, payment_provider, payment_intent_id, intent_attempt, total_amount, amount_paid, amount_refunded, currency';
/** The same columns of `orders t`, for a statement that aliases the table. */
export const ORDER_COLUMNS_OF_T = ORDER_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ');

/** The provider's own words go to the log only; the client gets ours and the request id. */
export function providerFailure(error: unknown, context: Record<string, unknown>): UpstreamError {
  logger.warn('payment provider call failed', { ...context, rejected: error instanceof PaymentProviderError && error.rejected, error: (error as Error).message });
  return new UpstreamError('PAYMENT_PROVIDER_ERROR', 'The payment provider could not complete this request; please try again later');
}

export async function lockOrder(orderId: string, transaction: Transaction): Promise<OrderRow | undefined> {
  const [order] = await queryRows<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $orderId FOR UPDATE`, { orderId }, transaction);
  return order;
}
