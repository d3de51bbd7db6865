import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { listOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { shippingRateController as controller } from './shipping-rate.controller';
import * as schemas from './shipping-rate.schemas';

const RATE = ref('ShippingRate');
const EXAMPLE = { name: 'Standard', countries: ['GB', 'IE'], price: '4.99', freeOver: '50.00', estimatedDays: 3 };

export const sellerShippingRateRoutes = new ApiRouter('/api/seller/shipping-rates', 'Seller dashboard')
  .get(
    '/',
    { summary: 'Your shipping rates, cheapest first', returns: 'shippingRates', response: { shippingRates: listOf('ShippingRate') } },
    authenticate,
    authorize('seller'),
    validate({}),
    controller.list,
  )
  .post(
    '/',
    {
      example: EXAMPLE,
      summary: 'Add a shipping rate (at most 50)',
      description:
        'An order pays, for each seller in it, the cheapest of that seller\'s rates covering the destination country (or the one chosen), ' +
        'free from `freeOver`. A seller without any rate ships everywhere at the platform default; one whose rates do not cover the country cannot ship there.',
      status: 201,
      returns: 'the rate',
      response: RATE,
      errors: ['400 SHIPPING_RATE_LIMIT'],
    },
    authenticate,
    authorize('seller'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    { example: { price: '5.49', countries: ['*'] }, summary: 'Change one of your shipping rates', returns: 'the rate', response: RATE, errors: ['404 SHIPPING_RATE_NOT_FOUND'] },
    authenticate,
    authorize('seller'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    {
      summary: 'Delete one of your shipping rates (orders keep the shipping they were charged)',
      returns: 'id',
      response: { id: { type: 'string', format: 'uuid' } },
      errors: ['404 SHIPPING_RATE_NOT_FOUND'],
    },
    authenticate,
    authorize('seller'),
    validate(schemas.byId),
    controller.remove,
  );
