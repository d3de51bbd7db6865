import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { promotionController as controller } from './promotion.controller';
import * as schemas from './promotion.schemas';

const PROMOTION = ref('Promotion');
const CODE_RULES =
  'Codes are unique in any case (stored upper case). `value` is the percent off for `percentage` (above 0, at most 100), the amount off for `fixed`, ' +
  'and absent for `free_shipping`; `endsAt` must be after `startsAt`. `usedCount` counts the uses orders took and is not writable.';

export const adminPromotionRoutes = new ApiRouter('/api/admin/promotions', 'Admin: pricing')
  .get(
    '/',
    { summary: "The platform's promotions (or one seller's, with sellerId), newest first", returns: 'promotions, pagination', response: pageOf('promotions', 'Promotion') },
    authenticate,
    authorize('admin'),
    validate(schemas.listPlatform),
    controller.listPlatform,
  )
  .post(
    '/',
    {
      example: { code: 'SUMMER10', type: 'percentage', value: 10, minSubtotal: '30.00', endsAt: '2030-09-01T00:00:00Z', usageLimit: 1000, usageLimitPerCustomer: 1 },
      summary: 'Create a platform promotion: the platform bears its discount, sellers are credited in full',
      description: CODE_RULES,
      status: 201,
      returns: 'the promotion',
      response: PROMOTION,
      errors: ['409 PROMO_CODE_EXISTS'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    {
      example: { usageLimit: 2000, active: true },
      summary: "Change a promotion (the platform's, or a seller's)",
      description: `Any subset of the fields; the type, value and window are checked as they will be together. ${CODE_RULES}`,
      returns: 'the promotion',
      response: PROMOTION,
      errors: ['404 PROMOTION_NOT_FOUND', '409 PROMO_CODE_EXISTS', '409 PROMO_LIMIT_BELOW_USES'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    { summary: 'Deactivate a promotion (orders keep the discount they got)', returns: 'the promotion', response: PROMOTION, errors: ['404 PROMOTION_NOT_FOUND'] },
    authenticate,
    authorize('admin'),
    validate(schemas.byId),
    controller.deactivate,
  );

export const sellerPromotionRoutes = new ApiRouter('/api/seller/promotions', 'Seller dashboard')
  .get(
    '/',
    { summary: 'Your promotions, newest first', returns: 'promotions, pagination', response: pageOf('promotions', 'Promotion') },
    authenticate,
    authorize('seller'),
    validate(schemas.listOwn),
    controller.listOwn,
  )
  .post(
    '/',
    {
      example: { code: 'TECH15', type: 'percentage', value: '15.00', usageLimit: 100 },
      summary: 'Create a promotion of your store: it discounts your lines only (those of productIds when given), and you bear the discount',
      description: `productIds must be your own products. ${CODE_RULES}`,
      status: 201,
      returns: 'the promotion',
      response: PROMOTION,
      errors: ['409 PROMO_CODE_EXISTS'],
    },
    authenticate,
    authorize('seller'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    {
      example: { endsAt: '2030-12-31T23:59:59Z' },
      summary: 'Change one of your promotions',
      description: `Any subset of the fields; the type, value and window are checked as they will be together. ${CODE_RULES}`,
      returns: 'the promotion',
      response: PROMOTION,
      errors: ['404 PROMOTION_NOT_FOUND', '409 PROMO_CODE_EXISTS', '409 PROMO_LIMIT_BELOW_USES'],
    },
    authenticate,
    authorize('seller'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    { summary: 'Deactivate one of your promotions (orders keep the discount they got)', returns: 'the promotion', response: PROMOTION, errors: ['404 PROMOTION_NOT_FOUND'] },
    authenticate,
    authorize('seller'),
    validate(schemas.byId),
    controller.deactivate,
  );
