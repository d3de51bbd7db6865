import Stripe from 'stripe';
import type { AppConfig } from '../config';
import { InvalidSignatureError, PaymentProviderError, type IntentStatus, type PaymentProvider, type ProviderIntent, type ProviderRefund } from './types';

/** The API version this code was written against: pinned, so a change on Stripe's side never changes what we read. */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

/** Stripe's default tolerance: an event signed more than 5 minutes ago is refused (replay). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

function toIntent(intent: Stripe.PaymentIntent): ProviderIntent {
  return {
    id: intent.id,
    clientSecret: intent.client_secret ?? null,
    status: intent.status as IntentStatus,
    amount: intent.amount,
    amountReceived: intent.amount_received ?? 0,
    currency: intent.currency,
    orderId: intent.metadata?.orderId ?? null,
  };
}

function toRefund(refund: Stripe.Refund): ProviderRefund {
  return {
    id: refund.id,
    status: (refund.status ?? 'pending') as ProviderRefund['status'],
    amount: refund.amount,
    currency: refund.currency,
    paymentIntentId: typeof refund.payment_intent === 'string' ? refund.payment_intent : (refund.payment_intent?.id ?? null),
    refundId: refund.metadata?.refundId ?? null,
  };
}

/** Stripe's errors as ours: a refusal (4xx) or an outage (5xx, network, timeout). */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const stripeError = error as { type?: string; statusCode?: number; message?: string };
    const rejected = stripeError.statusCode !== undefined && stripeError.statusCode >= 400 && stripeError.statusCode < 500 && stripeError.statusCode !== 429;
    throw new PaymentProviderError(`Stripe could not ${what}: ${stripeError.message ?? String(error)}`, rejected);
  }
}

export function createStripeProvider(settings: NonNullable<AppConfig['stripe']>): PaymentProvider {
  const stripe = new Stripe(settings.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: settings.host,
    port: settings.port,
    protocol: settings.protocol,
    timeout: settings.timeoutMs,
    // Safe: every create carries our idempotency key, so a retried request makes nothing twice.
    maxNetworkRetries: 1,
    appInfo: { name: 'marketplace-backend' },
  });

  return {
    name: 'stripe',

    createIntent: ({ orderId, amount, currency, key }) =>
      call('create a payment intent', async () =>
        toIntent(
          await stripe.paymentIntents.create(
            { amount, currency, metadata: { orderId }, automatic_payment_methods: { enabled: true } },
            { idempotencyKey: key },
          ),
        ),
      ),

    retrieveIntent: (intentId) => call('retrieve a payment intent', async () => toIntent(await stripe.paymentIntents.retrieve(intentId))),

    cancelIntent: (intentId) => call('cancel a payment intent', async () => toIntent(await stripe.paymentIntents.cancel(intentId))),

    refund: ({ intentId, amount, refundId, key }) =>
      call('refund', async () => toRefund(await stripe.refunds.create({ payment_intent: intentId, amount, metadata: { refundId } }, { idempotencyKey: key }))),

    listRefunds: (intentId) =>
      call('list refunds', async () => {
        const refunds: ProviderRefund[] = [];
        for await (const refund of stripe.refunds.list({ payment_intent: intentId, limit: 100 })) refunds.push(toRefund(refund));
        return refunds;
      }),

    transfer: ({ amount, currency, destination, payoutId, key }) =>
      call('transfer to a connected account', async () => {
        const transfer = await stripe.transfers.create({ amount, currency, destination, metadata: { payoutId } }, { idempotencyKey: key });
        return { id: transfer.id, amount: transfer.amount, currency: transfer.currency };
      }),

    verifyEvent: (rawBody, signature) => {
      if (!settings.webhookSecret) throw new InvalidSignatureError('No webhook secret is configured', true);
      if (!signature) throw new InvalidSignatureError('The Stripe-Signature header is missing');
      try {
        const event = stripe.webhooks.constructEvent(rawBody, signature, settings.webhookSecret, SIGNATURE_TOLERANCE_SECONDS);
        return { id: event.id, type: event.type, object: event.data.object as unknown as Record<string, unknown> };
      } catch (error) {
        throw new InvalidSignatureError((error as Error).message);
      }
    },
  };
}
