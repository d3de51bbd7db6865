import { config } from '../config';
import { createManualProvider } from './manual';
import { createStripeProvider } from './stripe';

/**
 * Payment providers behind one interface, in integer minor units. `stripe` when
 * STRIPE_SECRET_KEY is set, `manual` (bank transfer, cash on delivery: an admin records the
 * payment) otherwise. Calls that create something carry an idempotency key derived from our ids,
 * so a retry never makes a second one. Failures throw PaymentProviderError.
 */

import type { PaymentProvider } from './types';

export * from './types';

let provider: PaymentProvider | undefined;

export function getPaymentProvider(): PaymentProvider {
  provider ??= config.stripe ? createStripeProvider(config.stripe) : createManualProvider();
  return provider;
}

/** For tests that change the configuration between files. */
export function resetPaymentProvider(): void {
  provider = undefined;
}

/**
 * How long the job behind a provider call waits, when the request that recorded it calls the
 * provider itself first (the job is the backstop if that call fails or the process dies).
 */
export function providerBackstopMs(): number {
  return config.stripe?.retryDelayMs ?? 30_000;
}
