import type { PaymentProvider } from './types';
import { InvalidSignatureError, PaymentProviderError } from './types';

/**
 * Payments settled outside the platform (bank transfer, cash on delivery). There is nothing to
 * call: an admin records payments (mark-paid), refunds are recorded as made, sellers are paid by
 * bank (an admin marks payouts paid).
 */
export function createManualProvider(): PaymentProvider {
  const unsupported = (what: string) => Promise.reject(new PaymentProviderError(`The manual provider cannot ${what}`, true));
  return {
    name: 'manual',
    createIntent: () => unsupported('create payment intents'),
    retrieveIntent: () => unsupported('retrieve payment intents'),
    cancelIntent: () => unsupported('cancel payment intents'),
    refund: ({ amount, refundId }) =>
      Promise.resolve({ id: `manual-refund-${refundId}`, status: 'succeeded', amount, currency: '', paymentIntentId: null, refundId }),
    listRefunds: () => Promise.resolve([]),
    transfer: () => unsupported('transfer money'),
    verifyEvent: () => {
      throw new InvalidSignatureError('Stripe is not configured', true);
    },
  };
}
