import http from 'node:http';
import type { Transaction } from 'sequelize';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';
import packageJson from '../../../package.json';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { sendEmail } from '../../platform/jobs/email.job';
import { recordJob } from '../../platform/jobs/outbox';
import { logger } from '../../platform/utils/logger';
import { guardedLookup, isPublicAddress } from './url-guard';

/**
 * Posting deliveries: signed as Standard Webhooks says (`Webhook-Id`, `Webhook-Timestamp`,
 * `Webhook-Signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, by the
 * `standardwebhooks` package the receivers' own libraries match), with a 10 s timeout, no
 * redirect followed, to an address checked as the socket connects. Any 2xx is a success; any
 * other answer or none is retried on a schedule of about a day, then the delivery is failed. An
 * endpoint whose deliveries have all failed for 3 days is deactivated and its owner mailed.
 */

/** The wait before each attempt after the first: 8 attempts over about 27 hours. */
export const RETRY_SCHEDULE_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
export const DELIVERY_TIMEOUT_MS = 10_000;
export const DEACTIVATE_AFTER_MS = 3 * 24 * 3600_000;
/** What is read of a receiver's answer: its status is what counts. */
const MAX_ANSWER_BYTES = 64 * 1024;

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  payload: unknown;
  status: string;
  attempts: number;
  created_at: Date;
  url: string;
  secret: string;
  active: boolean;
}

interface Attempt {
  statusCode: number | null;
  error: string | null;
}

/** One POST: the status the receiver answered, or why there was none. */
function post(url: string, body: string, headers: Record<string, string>): Promise<Attempt> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An address in the URL skips the lookup: it is judged here instead.
    if (ipaddr.isValid(host) && !config.webhooks.allowPrivateUrls && !isPublicAddress(host)) {
      resolve({ statusCode: null, error: 'the URL names an address that may not receive webhooks' });
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(
      target,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, lookup: guardedLookup, timeout: DELIVERY_TIMEOUT_MS },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        const done = () => resolve({ statusCode: response.statusCode ?? null, error: null });
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    const overall = setTimeout(() => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)), DELIVERY_TIMEOUT_MS);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => resolve({ statusCode: null, error: error.message.slice(0, 500) }));
    request.on('close', () => clearTimeout(overall));
    request.end(body);
  });
}

export class DeliveryService {
  /** One attempt of a pending delivery (the job `webhooks.deliver`); what follows it is written in one transaction. */
  async deliver(deliveryId: string): Promise<void> {
    const [delivery] = await queryRows<DeliveryRow>(
      `SELECT d.id, d.endpoint_id, d.event_id, d.type, d.payload, d.status, d.attempts, d.created_at, e.url, e.secret, e.active
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $deliveryId`,
      { deliveryId },
    );
    if (!delivery || delivery.status !== 'pending') return;
    if (!delivery.active) {
      await queryRows(
        `UPDATE webhook_deliveries SET status = 'failed', last_error = 'the endpoint is deactivated', next_attempt_at = NULL, updated_at = now()
          WHERE id = $deliveryId AND status = 'pending'`,
        { deliveryId },
      );
      return;
    }
    const body = JSON.stringify({ id: delivery.event_id, type: delivery.type, createdAt: delivery.created_at, data: delivery.payload });
    const sentAt = new Date();
    const signature = new Webhook(delivery.secret).sign(delivery.event_id, sentAt, body);
    const attempt = await post(delivery.url, body, {
      'Content-Type': 'application/json',
      'User-Agent': `${config.companyName}-Webhooks/${packageJson.version}`,
      'Webhook-Id': delivery.event_id,
      'Webhook-Timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'Webhook-Signature': signature,
    });
    const succeeded = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
    await this.recordAttempt(delivery, attempt, succeeded);
  }

  private async recordAttempt(delivery: DeliveryRow, attempt: Attempt, succeeded: boolean): Promise<void> {
    const attempts = delivery.attempts + 1;
    if (succeeded) {
      // The common case in one statement (no transaction): the delivery done, its endpoint no longer failing.
      await queryRows(
        `WITH done AS (
           UPDATE webhook_deliveries
              SET attempts = $attempts, last_status_code = $statusCode, last_error = NULL, status = 'succeeded', delivered_at = now(),
                  next_attempt_at = NULL, updated_at = now()
            WHERE id = $deliveryId AND status = 'pending' AND attempts = $seen
            RETURNING endpoint_id
         )
         UPDATE webhook_endpoints e SET failing_since = NULL FROM done WHERE e.id = done.endpoint_id AND e.failing_since IS NOT NULL`,
        { deliveryId: delivery.id, seen: delivery.attempts, attempts, statusCode: attempt.statusCode },
      );
      return;
    }
    const retryIn = attempts >= MAX_ATTEMPTS ? null : RETRY_SCHEDULE_MS[attempts - 1];
    await inTransaction(async (transaction) => {
      // Conditional on the attempt it follows: a second run of the same job records nothing twice.
      const [moved] = await queryRows<{ id: string }>(
        `UPDATE webhook_deliveries
            SET attempts = $attempts, last_status_code = $statusCode, last_error = $error, updated_at = now(),
                status = $status::enum_webhook_deliveries_status,
                next_attempt_at = CASE WHEN $retryMs::int IS NULL THEN NULL ELSE now() + make_interval(secs => $retryMs::int / 1000.0) END
          WHERE id = $deliveryId AND status = 'pending' AND attempts = $seen
          RETURNING id`,
        {
          deliveryId: delivery.id,
          seen: delivery.attempts,
          attempts,
          statusCode: attempt.statusCode,
          error: attempt.error ?? `answered ${attempt.statusCode}`,
          status: retryIn === null ? 'failed' : 'pending',
          retryMs: retryIn,
        },
        transaction,
      );
      if (!moved) return;
      if (retryIn !== null) await recordJob('webhooks.deliver', { deliveryId: delivery.id }, { transaction, delayMs: retryIn });
      await this.afterFailure(delivery.endpoint_id, transaction);
    }, { name: 'webhook attempt' });
    logger.warn('webhook delivery failed', { deliveryId: delivery.id, endpointId: delivery.endpoint_id, attempt: attempts, statusCode: attempt.statusCode, error: attempt.error });
  }

  /** Marks the endpoint failing since now (or earlier), and deactivates it, once, after 3 days of failures; its owner is mailed. */
  private async afterFailure(endpointId: string, transaction: Transaction): Promise<void> {
    await queryRows('UPDATE webhook_endpoints SET failing_since = now(), updated_at = now() WHERE id = $endpointId AND failing_since IS NULL', { endpointId }, transaction);
    const [deactivated] = await queryRows<{ url: string; email: string; name: string; failing_since: Date }>(
      `WITH off AS (
         UPDATE webhook_endpoints SET active = false, updated_at = now()
          WHERE id = $endpointId AND active AND failing_since <= now() - make_interval(secs => $afterSeconds::int)
          RETURNING url, owner_id, failing_since
       )
       SELECT off.url, u.email, u.name, off.failing_since FROM off JOIN users u ON u.id = off.owner_id`,
      { endpointId, afterSeconds: DEACTIVATE_AFTER_MS / 1000 },
      transaction,
    );
    if (!deactivated) return;
    await sendEmail(
      deactivated.email,
      'webhook-disabled',
      { name: deactivated.name, endpointUrl: deactivated.url, failingSince: new Date(deactivated.failing_since).toISOString() },
      transaction,
    );
    logger.warn('webhook endpoint deactivated after failing for 3 days', { endpointId });
  }
}

export const deliveryService = new DeliveryService();
