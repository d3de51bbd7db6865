import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryStatus } from './enums';
import { WebhookEndpoint } from './webhook-endpoint.model';

/** One event for one endpoint: its body, attempts and outcome. */
export interface WebhookDeliveryAttributes {
  id: string;
  endpointId: string;
  /** The event's id: `Webhook-Id`, the same for every endpoint and every retry. */
  eventId: string;
  type: string;
  /** The body's `data`, as this endpoint sees it (a seller's filtered to their lines). */
  payload: Record<string, unknown>;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookDeliveryCreationAttributes = Optional<
  WebhookDeliveryAttributes,
  'id' | 'status' | 'attempts' | 'lastStatusCode' | 'lastError' | 'nextAttemptAt' | 'deliveredAt' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'webhook_deliveries',
  underscored: true,
  timestamps: true,
  indexes: [{ name: 'webhook_deliveries_endpoint_id_created_at_idx', fields: ['endpoint_id', 'created_at'] }],
})
export class WebhookDelivery extends AppModel<WebhookDeliveryAttributes, WebhookDeliveryCreationAttributes> implements WebhookDeliveryAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => WebhookEndpoint)
  @Column({ type: DataType.UUID, allowNull: false })
  endpointId!: string;

  @Column({ type: DataType.UUID, allowNull: false })
  eventId!: string;

  @Column({ type: DataType.STRING(50), allowNull: false })
  type!: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  payload!: Record<string, unknown>;

  @Column({ type: DataType.ENUM(...WEBHOOK_DELIVERY_STATUSES), allowNull: false, defaultValue: 'pending' })
  status!: WebhookDeliveryStatus;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  attempts!: number;

  @Column({ type: DataType.INTEGER, allowNull: true })
  lastStatusCode!: number | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  lastError!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  nextAttemptAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  deliveredAt!: Date | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => WebhookEndpoint, { foreignKey: 'endpointId', as: 'endpoint', onDelete: 'CASCADE' })
  endpoint?: WebhookEndpoint;
}
