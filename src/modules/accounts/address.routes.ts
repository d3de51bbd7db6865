import { validate } from '../../platform/http/validate.middleware';
import { ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { addressController as controller } from './address.controller';
import * as schemas from './address.schemas';
import { authenticate } from './auth.middleware';

const ADDRESS = ref('SavedAddress');
const EXAMPLE = { label: 'Home', firstName: 'Ada', lastName: 'Lovelace', address1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB', isDefaultShipping: true };

export const addressRoutes = new ApiRouter('/api/me/addresses', 'Address book')
  .get('/', { summary: 'Your saved addresses, oldest first', returns: 'addresses', response: { addresses: { type: 'array', items: ADDRESS } } }, authenticate, validate({}), controller.list)
  .post(
    '/',
    {
      example: EXAMPLE,
      summary: 'Save an address (at most 20); your first one becomes your default for shipping and billing',
      description: 'Checkout takes its id as `shippingAddressId` and keeps a copy in the order, so editing or deleting it later changes no order.',
      status: 201,
      returns: 'the address',
      response: ADDRESS,
      errors: ['400 ADDRESS_BOOK_FULL'],
    },
    authenticate,
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    { example: { isDefaultShipping: true }, summary: 'Change a saved address, or make it a default', returns: 'the address', response: ADDRESS, errors: ['404 ADDRESS_NOT_FOUND'] },
    authenticate,
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    { summary: 'Delete a saved address (orders keep their copy)', returns: 'id', response: { id: { type: 'string', format: 'uuid' } }, errors: ['404 ADDRESS_NOT_FOUND'] },
    authenticate,
    validate(schemas.byId),
    controller.remove,
  );
