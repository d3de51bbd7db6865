import type { RequestHandler } from 'express';
import { getPaymentProvider, InvalidSignatureError } from '../../platform/payments';
import { BadRequestError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { describeMiddleware } from '../../platform/http/openapi';

/**
 * The first step of the Stripe webhook: the signature over the raw bytes (express.raw on that
 * path) is checked before anything else reads them. The route is public, unthrottled and takes a
 * megabyte, so a request nobody signed must cost one HMAC at most (nothing without the header).
 */
export const stripeSignature: RequestHandler = describeMiddleware(
  (req, _res, next) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      getPaymentProvider().verifyEvent(body, req.get('stripe-signature'));
    } catch (error) {
      if (!(error instanceof InvalidSignatureError)) throw error;
      logger.warn('webhook refused: bad signature', { requestId: req.requestId, reason: error.message });
      if (error.notConfigured) {
        throw new BadRequestError(
          'INVALID_SIGNATURE',
          'Stripe webhooks are not configured on this server (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET): no signature can be checked',
        );
      }
      throw new BadRequestError('INVALID_SIGNATURE', 'The Stripe signature is missing, wrong or too old');
    }
    next();
  },
  { security: ['stripeSignature'] },
);
