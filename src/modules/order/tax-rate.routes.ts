import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { listOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { taxRateController as controller } from './tax-rate.controller';
import * as schemas from './tax-rate.schemas';

const RATE = ref('TaxRate');

export const adminTaxRateRoutes = new ApiRouter('/api/admin/tax-rates', 'Admin: pricing')
  .get(
    '/',
    { summary: 'Every tax rate, by country (the country-wide rate before those of its states)', returns: 'taxRates', response: { taxRates: listOf('TaxRate') } },
    authenticate,
    authorize('admin'),
    validate({}),
    controller.list,
  )
  .post(
    '/',
    {
      example: { country: 'US', state: 'CA', rate: 0.0825, name: 'CA sales tax', appliesToShipping: false },
      summary: 'Add the tax rate of a country, or of a state of it',
      description: 'The most specific rate matching the shipping address wins (country and state over country); TAX_RATE applies where none matches.',
      status: 201,
      returns: 'the rate',
      response: RATE,
      errors: ['409 TAX_RATE_EXISTS'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    { example: { rate: '0.0875' }, summary: 'Change a tax rate (orders keep the rate they were taxed at)', returns: 'the rate', response: RATE, errors: ['404 TAX_RATE_NOT_FOUND', '409 TAX_RATE_EXISTS'] },
    authenticate,
    authorize('admin'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    { summary: 'Delete a tax rate (orders keep the rate they were taxed at)', returns: 'id', response: { id: { type: 'string', format: 'uuid' } }, errors: ['404 TAX_RATE_NOT_FOUND'] },
    authenticate,
    authorize('admin'),
    validate(schemas.byId),
    controller.remove,
  );
