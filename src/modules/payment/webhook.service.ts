import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { getPaymentProvider, InvalidSignatureError } from '../../platform/payments';
import { recordJob } from '../../platform/jobs/outbox';
import { BadRequestError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { disputeService } from '../finance';
import { SYSTEM_ACTOR } from '../order';
import { moveStatus } from '../../platform/db/status-machine';
import { TRANSACTION_STATUS } from './payment-states';
import { CARD_PAYMENT } from './payment-rows';
import { intentService } from './intent.service';
import { refundService } from './refund.service';

/** Stripe's events: checked, recorded once per event id, and applied by a job. */

export class WebhookService {
  /**
   * Verifies a Stripe notification over its raw bytes and records it under its event id, with a
   * job to apply it, in one transaction; a second delivery of the same event records nothing.
   * Answers at once: applying (which may call Stripe) happens in the job.
   */
  async receiveWebhook(rawBody: Buffer, signature: string | undefined): Promise<{ duplicate: boolean }> {
    let event;
    try {
      event = getPaymentProvider().verifyEvent(rawBody, signature);
    } catch (error) {
      if (error instanceof InvalidSignatureError) {
        logger.warn('webhook refused: bad signature', { reason: error.message });
        throw new BadRequestError('INVALID_SIGNATURE', 'The Stripe signature is missing, wrong or too old');
      }
      throw error;
    }
    const verified = event;
    const duplicate = await inTransaction(async (transaction) => {
      const [row] = await queryRows<{ id: string }>(
        `INSERT INTO webhook_events (provider, event_id, type, payload) VALUES ('stripe', $eventId, $type, $payload::jsonb)
         ON CONFLICT (provider, event_id) DO NOTHING RETURNING id`,
        { eventId: verified.id, type: verified.type, payload: JSON.stringify(verified.object) },
        transaction,
      );
      if (!row) return true;
      await recordJob('payments.apply-event', { eventId: row.id }, { transaction, jobId: `webhook-${row.id}` });
      return false;
    }, { name: 'record webhook' });
    if (duplicate) logger.info('webhook event already received', { eventId: verified.id, type: verified.type });
    return { duplicate };
  }

  /** Applies a recorded event (the job's work). Safe to run again: each effect is guarded. */
  async applyEvent(eventRowId: string): Promise<void> {
    const [event] = await queryRows<{ id: string; event_id: string; type: string; payload: Record<string, unknown>; status: string }>(
      'SELECT id, event_id, type, payload, status FROM webhook_events WHERE id = $id',
      { id: eventRowId },
    );
    if (!event || event.status === 'processed') return;
    try {
      await this.dispatch(event.type, event.payload);
      await queryRows(`UPDATE webhook_events SET status = 'processed', processed_at = now(), attempts = attempts + 1, error = NULL, updated_at = now() WHERE id = $id`, {
        id: event.id,
      });
    } catch (error) {
      await queryRows(`UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, error = $error, updated_at = now() WHERE id = $id`, {
        id: event.id,
        error: (error as Error).message.slice(0, 1000),
      });
      throw error;
    }
  }

  private async dispatch(type: string, object: Record<string, unknown>): Promise<void> {
    const provider = getPaymentProvider();
    switch (type) {
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled': {
        // Events arrive in any order: the intent as it is now decides, never the event's copy.
        const intent = await provider.retrieveIntent(String(object.id));
        if (intent.status === 'succeeded') {
          await intentService.applySucceeded(intent, SYSTEM_ACTOR);
          return;
        }
        const status = intent.status === 'canceled' || type === 'payment_intent.canceled' ? 'canceled' : 'failed';
        const reason = (object.last_payment_error as { message?: string } | undefined)?.message ?? null;
        await moveStatus(TRANSACTION_STATUS, status, { where: CARD_PAYMENT, bind: { intentId: intent.id, reason }, set: { failure_reason: '$reason' } });
        return;
      }
      case 'charge.refunded':
        await refundService.reconcileRefunds(String(object.payment_intent));
        return;
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed':
        await disputeService.recordDispute({
          providerDisputeId: String(object.id ?? ''),
          paymentReference: String(object.payment_intent ?? ''),
          amount: Number(object.amount ?? 0),
          currency: String(object.currency ?? ''),
          reason: typeof object.reason === 'string' ? object.reason : null,
          status: String(object.status ?? ''),
        });
        return;
      default:
        logger.info('webhook event type not handled; acknowledged', { type });
    }
  }
}

export const webhookService = new WebhookService();
