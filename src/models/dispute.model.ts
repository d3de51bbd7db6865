import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { DISPUTE_STATUSES, type DisputeStatus } from './enums';
import { Order } from './order.model';

/**
 * A card payment the customer disputed with their bank, as the provider reported it. While it is
 * open the order's lines are not payable; lost, it takes the sellers' net share back (ledger
 * entries of type `dispute`); won, the lines are payable again.
 */
export interface DisputeAttributes {
  id: string;
  orderId: string;
  providerDisputeId: string;
  /** The disputed payment at the provider (a payment intent). */
  paymentReference: string;
  /** Money: decimal string. */
  amount: string;
  currency: string;
  reason: string | null;
  status: DisputeStatus;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DisputeCreationAttributes = Optional<DisputeAttributes, 'id' | 'status' | 'reason' | 'closedAt' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'disputes',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'disputes_provider_dispute_id_key', unique: true, fields: ['provider_dispute_id'] },
    { name: 'disputes_order_id_idx', fields: ['order_id'] },
    { name: 'disputes_status_created_at_idx', fields: ['status', 'created_at'] },
  ],
})
export class Dispute extends AppModel<DisputeAttributes, DisputeCreationAttributes> implements DisputeAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  providerDisputeId!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  paymentReference!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  amount!: string;

  @Column({ type: DataType.CHAR(3), allowNull: false })
  currency!: string;

  @Column({ type: DataType.STRING(100), allowNull: true })
  reason!: string | null;

  @Column({ type: DataType.STRING(10), allowNull: false, defaultValue: 'open', validate: { isIn: [DISPUTE_STATUSES] } })
  status!: DisputeStatus;

  @Column({ type: DataType.DATE, allowNull: true })
  closedAt!: Date | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'RESTRICT' })
  order?: Order;
}
