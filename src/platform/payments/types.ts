// The provider interface and its types, in integer minor units.

export type IntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

export interface ProviderIntent {
  id: string;
  clientSecret: string | null;
  status: IntentStatus;
  /** Minor units. */
  amount: number;
  amountReceived: number;
  currency: string;
  /** Our order id, from the intent's metadata. */
  orderId: string | null;
}

export interface ProviderRefund {
  id: string;
  status: 'succeeded' | 'pending' | 'failed' | 'canceled' | 'requires_action';
  amount: number;
  currency: string;
  paymentIntentId: string | null;
  /** Our refund row id, when the refund was made through the app. */
  refundId: string | null;
}

export interface ProviderTransfer {
  id: string;
  amount: number;
  currency: string;
}

/** A signed notification from the provider, verified. */
export interface ProviderEvent {
  id: string;
  type: string;
  object: Record<string, unknown>;
}

export class PaymentProviderError extends Error {
  constructor(
    message: string,
    /** True when the provider refused the request (it will refuse it again), false for outages and timeouts. */
    readonly rejected: boolean,
  ) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

export class InvalidSignatureError extends Error {
  constructor(
    message: string,
    /** No webhook secret is configured: no signature can be checked. */
    readonly notConfigured = false,
  ) {
    super(message);
    this.name = 'InvalidSignatureError';
  }
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'manual';
  /** `key` is our idempotency key: the same key gives back the same intent. */
  createIntent(input: { orderId: string; amount: number; currency: string; key: string }): Promise<ProviderIntent>;
  retrieveIntent(intentId: string): Promise<ProviderIntent>;
  /** Stops an intent from being paid (its order was cancelled before the payment). */
  cancelIntent(intentId: string): Promise<ProviderIntent>;
  /** `key` is our idempotency key (derived from the refund row id). */
  refund(input: { intentId: string; amount: number; refundId: string; key: string }): Promise<ProviderRefund>;
  listRefunds(intentId: string): Promise<ProviderRefund[]>;
  transfer(input: { amount: number; currency: string; destination: string; payoutId: string; key: string }): Promise<ProviderTransfer>;
  /** Checks the signature over the raw bytes and parses the event. */
  verifyEvent(rawBody: Buffer, signature: string | undefined): ProviderEvent;
}
