import crypto from 'node:crypto';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type WebhookDeliveryStatus } from '../../models';
import { BadRequestError, NotFoundError } from '../../platform/utils/errors';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import type { Caller } from '../accounts';
import { checkWebhookUrl } from './url-guard';

/**
 * Webhook endpoints and their delivery logs. The platform's endpoints (for any event) are shared
 * by the admins; a seller's are their own, for events about them. A secret is shown once, when
 * the endpoint is made or its secret rolled, and is never in an answer otherwise.
 */

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string | null;
}

export interface EndpointChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  active?: boolean;
}

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  description: string | null;
  failingSince: Date | null;
  createdAt: Date;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

/** Endpoints per owner: the platform's, or one seller's. */
export const MAX_ENDPOINTS = 20;

const COLUMNS = `id, url, events, active, description, failing_since AS "failingSince", created_at AS "createdAt"`;

/** `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries take. */
function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/** The endpoints a caller manages: an admin the platform's, a seller their own. */
function scopeOf(caller: Caller): { where: string; bind: Record<string, unknown> } {
  return caller.role === 'admin' ? { where: 'seller_id IS NULL', bind: {} } : { where: 'seller_id = $sellerId', bind: { sellerId: caller.id } };
}

export class EndpointService {
  async list(caller: Caller): Promise<EndpointView[]> {
    const scope = scopeOf(caller);
    return queryRows<EndpointView>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE ${scope.where} ORDER BY created_at, id`, scope.bind);
  }

  /** Registers an endpoint (at most 20 per owner, counted under the owner's row lock); the secret is in this answer only. */
  async create(caller: Caller, input: EndpointInput): Promise<EndpointView & { secret: string }> {
    await checkWebhookUrl(input.url);
    return inTransaction(async (transaction) => {
      await queryRows('SELECT id FROM users WHERE id = $id FOR NO KEY UPDATE', { id: caller.id }, transaction);
      const scope = scopeOf(caller);
      if (caller.role === 'admin') await queryRows("SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:platform'))", {}, transaction);
      const [{ count }] = await queryRows<{ count: number }>(`SELECT count(*)::int AS count FROM webhook_endpoints WHERE ${scope.where}`, scope.bind, transaction);
      if (count >= MAX_ENDPOINTS) throw new BadRequestError('WEBHOOK_ENDPOINT_LIMIT', `At most ${MAX_ENDPOINTS} webhook endpoints`);
      const secret = newSecret();
      const [row] = await queryRows<EndpointView>(
        `INSERT INTO webhook_endpoints (owner_id, seller_id, url, events, description, secret)
         VALUES ($ownerId, $sellerId, $url, $events::varchar(50)[], $description, $secret) RETURNING ${COLUMNS}`,
        { ownerId: caller.id, sellerId: caller.role === 'admin' ? null : caller.id, url: input.url, events: input.events, description: input.description ?? null, secret },
        transaction,
      );
      return { ...row, secret };
    }, { name: 'create webhook endpoint' });
  }

  async update(caller: Caller, id: string, changes: EndpointChanges): Promise<EndpointView> {
    if (changes.url !== undefined) await checkWebhookUrl(changes.url);
    const scope = scopeOf(caller);
    const [row] = isUuid(id)
      ? await queryRows<EndpointView>(
          `UPDATE webhook_endpoints
              SET url = coalesce($url, url), events = coalesce($events::varchar(50)[], events),
                  description = CASE WHEN $descriptionGiven THEN $description ELSE description END,
                  active = coalesce($active, active),
                  -- Turned on again: its failures start over.
                  failing_since = CASE WHEN $active::boolean IS TRUE THEN NULL ELSE failing_since END,
                  updated_at = now()
            WHERE id = $id AND ${scope.where} RETURNING ${COLUMNS}`,
          {
            ...scope.bind,
            id,
            url: changes.url ?? null,
            events: changes.events ?? null,
            descriptionGiven: changes.description !== undefined,
            description: changes.description ?? null,
            active: changes.active ?? null,
          },
        )
      : [];
    if (!row) throw new NotFoundError('WebhookEndpoint');
    return row;
  }

  async remove(caller: Caller, id: string): Promise<void> {
    const scope = scopeOf(caller);
    const rows = isUuid(id) ? await queryRows(`DELETE FROM webhook_endpoints WHERE id = $id AND ${scope.where} RETURNING id`, { ...scope.bind, id }) : [];
    if (rows.length === 0) throw new NotFoundError('WebhookEndpoint');
  }

  /** A new secret, in this answer only; deliveries from now on are signed with it alone. */
  async rollSecret(caller: Caller, id: string): Promise<{ id: string; secret: string }> {
    const scope = scopeOf(caller);
    const secret = newSecret();
    const rows = isUuid(id)
      ? await queryRows(`UPDATE webhook_endpoints SET secret = $secret, updated_at = now() WHERE id = $id AND ${scope.where} RETURNING id`, { ...scope.bind, id, secret })
      : [];
    if (rows.length === 0) throw new NotFoundError('WebhookEndpoint');
    return { id, secret };
  }

  async deliveries(caller: Caller, id: string, query: PageQuery): Promise<{ deliveries: DeliveryView[]; pagination: Pagination }> {
    await this.owned(caller, id);
    const [{ total }] = await queryRows<{ total: number }>('SELECT count(*)::int AS total FROM webhook_deliveries WHERE endpoint_id = $id', { id });
    const deliveries = await queryRows<DeliveryView>(
      `SELECT id, event_id AS "eventId", type, status, attempts, last_status_code AS "lastStatusCode", last_error AS "lastError",
              next_attempt_at AS "nextAttemptAt", created_at AS "createdAt"
         FROM webhook_deliveries WHERE endpoint_id = $id ORDER BY created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { id, limit: query.limit, offset: offsetOf(query) },
    );
    return { deliveries, pagination: paginationOf(query, total) };
  }

  /** Sends a delivery again (same event id: receivers that have it already can tell), now. */
  async redeliver(caller: Caller, id: string, deliveryId: string): Promise<DeliveryView> {
    await this.owned(caller, id);
    const view = await inTransaction(async (transaction) => {
      const [row] = isUuid(deliveryId)
        ? await queryRows<DeliveryView>(
            `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
              WHERE id = $deliveryId AND endpoint_id = $id
              RETURNING id, event_id AS "eventId", type, status, attempts, last_status_code AS "lastStatusCode", last_error AS "lastError",
                        next_attempt_at AS "nextAttemptAt", created_at AS "createdAt"`,
            { id, deliveryId },
            transaction,
          )
        : [];
      if (!row) throw new NotFoundError('WebhookDelivery');
      await recordJob('webhooks.deliver', { deliveryId }, { transaction });
      return row;
    }, { name: 'redeliver webhook' });
    return view;
  }

  private async owned(caller: Caller, id: string): Promise<void> {
    const scope = scopeOf(caller);
    const [row] = isUuid(id) ? await queryRows(`SELECT id FROM webhook_endpoints WHERE id = $id AND ${scope.where}`, { ...scope.bind, id }) : [];
    if (!row) throw new NotFoundError('WebhookEndpoint');
  }
}

export const endpointService = new EndpointService();
