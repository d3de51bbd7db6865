import { adminUserController as controller } from './admin-user.controller';
import { authenticate, authorize } from './auth.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './admin-user.schemas';

export const adminUserRoutes = new ApiRouter('/api/admin', 'Admin: users and sellers')
  .get('/users', { summary: 'List users (filter by role, status; search name or email)', returns: 'users, pagination', response: pageOf('users', 'User') }, authenticate, authorize('admin'), validate(schemas.listUsers), controller.list)
  .get('/users/:id', { summary: 'One user, with the seller profile', returns: 'the user', response: ref('User') }, authenticate, authorize('admin'), validate(schemas.getUser), controller.get)
  .patch(
    '/users/:id/status',
    {
    example: { status: 'suspended', reason: 'Repeated chargebacks' }, summary: 'Approve or suspend a user; suspension revokes all their sessions', returns: 'the user', response: ref('User'), errors: ['400 CANNOT_SUSPEND_SELF'] },
    authenticate,
    authorize('admin'),
    validate(schemas.setStatus),
    controller.setStatus,
  )
  .get('/sellers', { summary: 'List sellers by status (default pending)', returns: 'sellers, pagination', response: pageOf('sellers', 'User') }, authenticate, authorize('admin'), validate(schemas.listSellers), controller.listSellers)
  .post(
    '/sellers/:id/approve',
    {
    example: {}, summary: 'Approve a pending or rejected seller; mails them', returns: 'the seller', response: ref('User'), errors: ['409 SELLER_NOT_PENDING'] },
    authenticate,
    authorize('admin'),
    validate(schemas.approveSeller),
    controller.approveSeller,
  )
  .post(
    '/sellers/:id/reject',
    {
    example: { reason: 'The store name is already a registered trademark' }, summary: 'Reject a pending seller with a reason; mails them the reason', returns: 'the seller', response: ref('User'), errors: ['409 SELLER_NOT_PENDING'] },
    authenticate,
    authorize('admin'),
    validate(schemas.rejectSeller),
    controller.rejectSeller,
  );
