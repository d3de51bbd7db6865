import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { returnController as controller } from './return.controller';
import * as schemas from './return.schemas';

const RETURN = ref('Return');
const MOVE_ERRORS = ['404 RETURN_NOT_FOUND', '409 INVALID_STATUS_TRANSITION'];
const RECEIVE_DESCRIPTION =
  'Refunds through the payment provider what was paid for the returned units (each unit\'s share of its line: the price less its discount share plus its tax share; ' +
  "the seller's shipping when none of their lines is left), books it in the seller's ledger with the commission given back, and restocks the units when asked. " +
  'The refund is recorded with the move: a crash after it loses nothing. The return becomes refunded when the refund completes (at once for a manual payment).';

export const orderReturnRoutes = new ApiRouter('/api/orders', 'Returns').post(
  '/:id/returns',
  {
    example: { items: [{ orderItemId: '00000000-0000-4000-8000-000000000000', quantity: 1, reason: 'Too small' }], note: 'Unworn, with tags' },
    summary: 'Ask to return units of delivered lines of one seller, within RETURN_WINDOW_DAYS of delivery',
    status: 201,
    returns: 'the return',
    response: RETURN,
    errors: ['404 ORDER_NOT_FOUND', '404 ORDER_ITEM_NOT_FOUND', '409 ORDER_ITEM_NOT_RETURNABLE', '409 RETURN_WINDOW_CLOSED', '409 RETURN_EXCEEDS_QUANTITY'],
  },
  authenticate,
  validate(schemas.request),
  controller.request,
);

function moves(router: ApiRouter, role: 'seller' | 'admin'): ApiRouter {
  const who = role === 'seller' ? 'of your lines' : '';
  return router
    .get('/returns', { summary: `Returns ${who}, newest first`.replace('  ', ' '), returns: 'returns, pagination', response: pageOf('returns', 'Return') }, authenticate, authorize(role), validate(schemas.list), controller.list)
    .post(
      '/returns/:id/approve',
      { example: { note: 'Send it back with the label in the box' }, summary: `Approve a requested return ${who}; the customer is mailed`.replace('  ', ' '), returns: 'the return', response: RETURN, errors: MOVE_ERRORS },
      authenticate,
      authorize(role),
      validate(schemas.decide),
      controller.approve,
    )
    .post(
      '/returns/:id/reject',
      { example: { note: 'Worn items cannot be returned' }, summary: `Reject a requested return ${who}; its units can be asked again; the customer is mailed`.replace('  ', ' '), returns: 'the return', response: RETURN, errors: MOVE_ERRORS },
      authenticate,
      authorize(role),
      validate(schemas.decide),
      controller.reject,
    )
    .post(
      '/returns/:id/receive',
      {
        example: { restock: true },
        summary: `Mark an approved return ${who} received, and refund it`.replace('  ', ' '),
        description: RECEIVE_DESCRIPTION,
        returns: 'the return',
        response: RETURN,
        errors: MOVE_ERRORS,
      },
      authenticate,
      authorize(role),
      validate(schemas.receive),
      controller.receive,
    );
}

export const sellerReturnRoutes = moves(new ApiRouter('/api/seller', 'Seller dashboard'), 'seller');
export const adminReturnRoutes = moves(new ApiRouter('/api/admin', 'Returns'), 'admin');
