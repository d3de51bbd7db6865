import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import { webhookController as controller } from './webhook.controller';
import * as schemas from './webhook.schemas';

const ENDPOINT = ref('WebhookEndpoint');
const EXAMPLE = { url: 'https://erp.example.com/hooks/marketplace', events: ['order.paid', 'order.refunded'], description: 'ERP order sync' };
const DELIVERY_DESCRIPTION =
  'Each event is a POST of JSON `{id, type, createdAt, data}` signed as Standard Webhooks says: headers `Webhook-Id` (the event id, the same on every retry), ' +
  '`Webhook-Timestamp` and `Webhook-Signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed by the secret>`. Any 2xx is a success; ' +
  'otherwise it is tried again for about a day (8 attempts), with a 10 s timeout and no redirects followed. An endpoint whose deliveries all fail for 3 days is turned off and its owner mailed.';

function endpointRoutes(router: ApiRouter, role: 'admin' | 'seller'): ApiRouter {
  const scope = role === 'admin' ? "the platform's endpoints (every event)" : 'your endpoints (events of your orders, products, returns and payouts, with data filtered to your lines)';
  return router
    .get('/', { summary: `List ${scope}`, returns: 'endpoints', response: { endpoints: { type: 'array', items: ENDPOINT } } }, authenticate, authorize(role), validate({}), controller.list)
    .post(
      '/',
      {
        example: EXAMPLE,
        summary: 'Register an endpoint; its signing secret is in this answer only',
        description: DELIVERY_DESCRIPTION,
        status: 201,
        returns: 'the endpoint and its secret',
        response: ref('WebhookEndpointWithSecret'),
        errors: ['400 INVALID_WEBHOOK_URL', '400 WEBHOOK_ENDPOINT_LIMIT'],
      },
      authenticate,
      authorize(role),
      validate(schemas.create),
      controller.create,
    )
    .patch(
      '/:id',
      { example: { active: true }, summary: 'Change an endpoint, or turn it on or off (on again: its failures start over)', returns: 'the endpoint', response: ENDPOINT, errors: ['404 WEBHOOK_ENDPOINT_NOT_FOUND', '400 INVALID_WEBHOOK_URL'] },
      authenticate,
      authorize(role),
      validate(schemas.update),
      controller.update,
    )
    .delete(
      '/:id',
      { summary: 'Delete an endpoint and its delivery log', returns: 'id', response: { id: { type: 'string', format: 'uuid' } }, errors: ['404 WEBHOOK_ENDPOINT_NOT_FOUND'] },
      authenticate,
      authorize(role),
      validate(schemas.byId),
      controller.remove,
    )
    .post(
      '/:id/roll-secret',
      { summary: 'A new signing secret, in this answer only; deliveries from now on are signed with it alone', returns: 'id, secret', response: { id: { type: 'string', format: 'uuid' }, secret: { type: 'string' } }, errors: ['404 WEBHOOK_ENDPOINT_NOT_FOUND'] },
      authenticate,
      authorize(role),
      validate(schemas.byId),
      controller.rollSecret,
    )
    .get(
      '/:id/deliveries',
      { summary: "The endpoint's deliveries, newest first", returns: 'deliveries, pagination', response: pageOf('deliveries', 'WebhookDelivery'), errors: ['404 WEBHOOK_ENDPOINT_NOT_FOUND'] },
      authenticate,
      authorize(role),
      validate(schemas.deliveries),
      controller.deliveries,
    )
    .post(
      '/:id/deliveries/:deliveryId/redeliver',
      { summary: 'Send a delivery again now (same event id)', returns: 'the delivery', response: ref('WebhookDelivery'), errors: ['404 WEBHOOK_ENDPOINT_NOT_FOUND', '404 WEBHOOK_DELIVERY_NOT_FOUND'] },
      authenticate,
      authorize(role),
      validate(schemas.redeliver),
      controller.redeliver,
    );
}

export const adminWebhookRoutes = endpointRoutes(new ApiRouter('/api/admin/webhooks', 'Webhooks'), 'admin');
export const sellerWebhookRoutes = endpointRoutes(new ApiRouter('/api/seller/webhooks', 'Webhooks'), 'seller');
