import type { Optional } from 'sequelize';
import { Column, DataType, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { WEBHOOK_EVENT_STATUSES, type WebhookEventStatus } from './enums';

/** Every provider event received, stored under a unique (provider, event id): each is applied once. */
export interface WebhookEventAttributes {
  id: string;
  /** 'stripe' */
  provider: string;
  eventId: string;
  type: string;
  payload: Record<string, unknown>;
  status: WebhookEventStatus;
  attempts: number;
  processedAt: Date | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEventCreationAttributes = Optional<
  WebhookEventAttributes,
  'id' | 'status' | 'attempts' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'webhook_events',
  underscored: true,
  timestamps: true,
  indexes: [{ name: 'webhook_events_provider_event_id_key', unique: true, fields: ['provider', 'event_id'] }],
})
export class WebhookEvent
  extends AppModel<WebhookEventAttributes, WebhookEventCreationAttributes>
  implements WebhookEventAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(20), allowNull: false })
  provider!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  eventId!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  type!: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  payload!: Record<string, unknown>;

  @Column({ type: DataType.ENUM(...WEBHOOK_EVENT_STATUSES), allowNull: false, defaultValue: 'received' })
  status!: WebhookEventStatus;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  attempts!: number;

  @Column({ type: DataType.DATE, allowNull: true })
  processedAt!: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  error!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  static findByProviderEventId(provider: string, eventId: string): Promise<WebhookEvent | null> {
    return WebhookEvent.findOne({ where: { provider, eventId } });
  }
}
