import type { Transaction } from 'sequelize';
import type { EmailTemplate, EmailTemplateData } from '../mail/mail.service';
import { recordJob } from './outbox';

/**
 * Records a mail in the outbox, in the transaction when one is given: a rolled-back sign-up
 * sends no welcome mail, a committed one always gets it (also when Redis was down at the time),
 * and a slow SMTP server never holds a request or a row lock. Await it inside the transaction.
 */
export function sendEmail<T extends EmailTemplate>(
  to: string,
  template: T,
  data: EmailTemplateData[T],
  transaction?: Transaction | null,
  options: { jobId?: string } = {},
): Promise<void> {
  return recordJob('email.send', { template, to, data: { ...data } }, { transaction, jobId: options.jobId });
}
