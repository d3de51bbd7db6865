import { providePayments } from '../order';
import { intentService } from './intent.service';
import { refundService } from './refund.service';

/**
 * Payments: card intents and their confirmation, manual payments (intent.service.ts), Stripe's
 * webhooks (webhook.service.ts), refunds (refund.service.ts), the admins' transaction list, and the
 * payment, transaction and refund state machines. The top of the modules: it moves orders and
 * records money in finance; orders reach it only through the port it provides here.
 */
export { adminPaymentRoutes, paymentRoutes, webhookRoutes } from './payment.routes';
export { intentService } from './intent.service';
export { refundService } from './refund.service';
export { webhookService } from './webhook.service';

providePayments({
  refundEverythingIn: (orderId, actor, reason, transaction) => refundService.refundEverythingIn(orderId, actor, reason, transaction),
  refundLinesIn: (orderId, itemIds, actor, reason, transaction) => refundService.refundLinesIn(orderId, itemIds, actor, reason, transaction),
  refundReturnIn: (returnId, actor, transaction) => refundService.refundReturnIn(returnId, actor, transaction),
  settleRefund: (refundId, actor, options) => refundService.settleRefund(refundId, actor, options),
  refund: (orderId, admin, input) => refundService.refund(orderId, admin, input),
  cancelOpenIntents: (orderId) => intentService.cancelOpenIntents(orderId),
});
