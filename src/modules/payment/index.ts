import { providePayments } from '../order';
import { paymentService } from './payment.service';

/**
 * Payments: card intents and their confirmation, Stripe's webhooks, manual payments, refunds
 * (reserved in a transaction, sent after it), and the payment, transaction and refund state
 * machines. The top of the modules: it moves orders and records money in finance; orders reach
 * it only through the port it provides here.
 */
export { adminPaymentRoutes, paymentRoutes, webhookRoutes } from './payment.routes';
export { paymentService } from './payment.service';

providePayments(paymentService);
