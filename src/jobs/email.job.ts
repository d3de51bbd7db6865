import type { Transaction } from 'sequelize';
import type { EmailTemplate, EmailTemplateData } from '../services/mail.service';
import { logger } from '../utils/logger';
import { enqueueAfterCommit } from './index';

/**
 * Queues a mail, after the transaction commits when one is given: a rolled-back sign-up
 * sends no welcome mail, and a slow SMTP server never holds a request or a row lock.
 * Never rejects (a failure to queue is logged): callers may fire and forget, and a mail that
 * cannot be queued must not fail the sign-up or the order that asked for it.
 */
export function sendEmail<T extends EmailTemplate>(
  to: string,
  template: T,
  data: EmailTemplateData[T],
  transaction?: Transaction | null,
): Promise<void> {
  return enqueueAfterCommit(transaction, 'email.send', { template, to, data: { ...data } }).catch((error: unknown) => {
    logger.error('could not enqueue a mail', { template, error: (error as Error).message });
  });
}
