import type { Transaction } from 'sequelize';
import type { Caller } from '../accounts';
import type { Actor } from './order-state';

/**
 * What a cancel or an admin's status move asks of payments. The payment module moves orders (a
 * payment confirms one), so orders cannot import it back: it provides this port instead, from its
 * index (payment/index.ts), and every process that serves orders loads it (api-router.ts, jobs).
 */
export interface OrderPayments {
  /** Reserves, in the cancel's transaction, the refund of everything paid and not refunded yet; its id, or null when nothing was paid. */
  refundEverythingIn(orderId: string, actor: Actor, reason: string, transaction: Transaction): Promise<string | null>;
  /** Reserves the refund of these lines' share (with their part of tax and shipping); its id, or null. */
  refundLinesIn(orderId: string, itemIds: string[], actor: Actor, reason: string, transaction: Transaction): Promise<string | null>;
  /** Reserves, in the transaction that received a return, the refund of what was paid for its units; its id, or null. */
  refundReturnIn(returnId: string, actor: Actor, transaction: Transaction): Promise<string | null>;
  /** Sends a reserved refund to the provider once its transaction has committed (its job is the backstop). */
  settleRefund(refundId: string, actor: Actor, options: { throwOnFailure: boolean }): Promise<unknown>;
  /** Cancels the order's open card intents at the provider. */
  cancelOpenIntents(orderId: string): Promise<void>;
  /** An admin's refund of everything left (PATCH status `refunded`). */
  refund(orderId: string, admin: Caller, input: { reason: string | null }): Promise<void>;
}

let provided: OrderPayments | undefined;

export function providePayments(payments: OrderPayments): void {
  provided = payments;
}

export function payments(): OrderPayments {
  if (!provided) throw new Error('No payments for orders: load the payment module (src/modules/payment) in this process');
  return provided;
}
