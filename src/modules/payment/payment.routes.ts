import { paymentController as controller } from './payment.controller';
import { authenticate, authorize } from '../accounts';
import { stripeSignature } from './stripe-signature.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './payment.schemas';

const ORDER = { $ref: '#/components/schemas/OrderDetail' };
const TRANSACTIONS = { transactions: { type: 'array', items: { $ref: '#/components/schemas/PaymentTransaction' } } };

export const paymentRoutes = new ApiRouter('/api/payments', 'Payments')
  .post(
    '/create-intent',
    {
      example: { orderId: '00000000-0000-4000-8000-000000000000' },
      summary: 'Start paying a pending order',
      description:
        'With Stripe: a PaymentIntent for the order total (asking again returns the same one; a canceled one is replaced), to confirm with Stripe.js. ' +
        'With the manual provider (no STRIPE_SECRET_KEY): provider "manual", no intent; the customer pays by bank transfer or on delivery and an admin records it.',
      returns: 'provider, clientSecret, paymentIntentId, amount, currency',
      response: { $ref: '#/components/schemas/PaymentIntent' },
      errors: ['404 ORDER_NOT_FOUND', '409 ORDER_NOT_PAYABLE', '502 PAYMENT_PROVIDER_ERROR'],
    },
    authenticate,
    validate(schemas.createIntent),
    controller.createIntent,
  )
  .post(
    '/confirm',
    {
      example: { orderId: '00000000-0000-4000-8000-000000000000', paymentIntentId: 'pi_3QExampleIntent' },
      summary: 'Tell the server the payment went through; it asks Stripe and confirms the order',
      description: 'The webhook confirms the order too; whichever comes first confirms, the other changes nothing.',
      returns: 'the order',
      response: ORDER,
      errors: ['402 PAYMENT_NOT_COMPLETED', '404 ORDER_NOT_FOUND', '404 PAYMENT_INTENT_NOT_FOUND', '409 PAYMENT_MISMATCH', '502 PAYMENT_PROVIDER_ERROR'],
    },
    authenticate,
    validate(schemas.confirm),
    controller.confirm,
  )
  .get(
    '/orders/:orderId',
    { summary: "An order's payment and refund transactions (its owner, or an admin)", returns: 'transactions', response: TRANSACTIONS, errors: ['404 ORDER_NOT_FOUND'] },
    authenticate,
    validate(schemas.byOrder),
    controller.listForOrder,
  );

export const webhookRoutes = new ApiRouter('/api/webhooks', 'Payments').post(
  '/stripe',
  {
    summary: 'Stripe events (signed): payments, refunds made in Stripe, disputes',
    description:
      'The signature is checked first, over the raw body (5 minutes tolerance): an unsigned request is refused before anything else reads it. Each event id is applied once, whatever the order or number of deliveries; ' +
      'the answer comes at once and the event is applied by a job. Not rate limited.',
    returns: 'received, duplicate',
    response: { received: { type: 'boolean', const: true }, duplicate: { type: 'boolean', description: 'true when this event id was received before' } },
    errors: ['400 INVALID_SIGNATURE'],
  },
  stripeSignature,
  validate(schemas.webhook),
  controller.webhook,
);

export const adminPaymentRoutes = new ApiRouter('/api/admin', 'Admin: orders')
  .post(
    '/orders/:id/mark-paid',
    {
      example: { reference: 'BANK-2026-12-05-0042' },
      summary: 'Record the manual payment of a pending order (whole total) and confirm it; mails the customer',
      returns: 'the order',
      response: ORDER,
      errors: ['404 ORDER_NOT_FOUND', '409 ORDER_ALREADY_PAID', '409 ORDER_NOT_PAYABLE'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.markPaid),
    controller.markPaid,
  )
  .post(
    '/orders/:id/refund',
    {
      example: { amount: '10.00', reason: 'One item arrived damaged' },
      summary: 'Refund part or all of what was paid, through the payment provider',
      description:
        'Never more than was paid, also for requests at once. A refund of everything left moves the order to refunded (restock: true puts its stock back). ' +
        'A provider that refuses leaves a failed refund row; one that does not answer leaves the refund pending: it is sent again with the same idempotency key.',
      returns: 'the order',
      response: ORDER,
      errors: ['404 ORDER_NOT_FOUND', '409 ORDER_NOT_REFUNDABLE', '409 REFUND_EXCEEDS_PAYMENT', '502 PAYMENT_PROVIDER_ERROR'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.refund),
    controller.refund,
  )
  .get(
    '/transactions',
    {
      summary: 'Every payment and refund transaction, newest first',
      returns: 'transactions, pagination',
      response: { ...TRANSACTIONS, pagination: { $ref: '#/components/schemas/Pagination' } },
    },
    authenticate,
    authorize('admin'),
    validate(schemas.adminTransactions),
    controller.adminTransactions,
  );
