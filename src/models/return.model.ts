import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, HasMany, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { RETURN_STATUSES, type ReturnStatus } from './enums';
import { Order } from './order.model';
import { Refund } from './refund.model';
import { ReturnItem } from './return-item.model';
import { User } from './user.model';

/** A customer's request to send back units of delivered lines of one seller. */
export interface ReturnAttributes {
  id: string;
  orderId: string;
  /** The customer who asked. */
  userId: string;
  /** The seller of every line in it, who decides. */
  sellerId: string;
  status: ReturnStatus;
  /** The customer's note. */
  note: string | null;
  /** Whether receiving it put the units back in stock (null until received). */
  restock: boolean | null;
  /** What is refunded for it: what was paid for the units (money). */
  refundAmount: string;
  refundId: string | null;
  receivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type ReturnCreationAttributes = Optional<ReturnAttributes, 'id' | 'status' | 'note' | 'restock' | 'refundAmount' | 'refundId' | 'receivedAt' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'returns',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'returns_order_id_idx', fields: ['order_id'] },
    { name: 'returns_seller_id_created_at_idx', fields: ['seller_id', 'created_at'] },
    { name: 'returns_status_created_at_idx', fields: ['status', 'created_at'] },
  ],
})
export class Return extends AppModel<ReturnAttributes, ReturnCreationAttributes> implements ReturnAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.ENUM(...RETURN_STATUSES), allowNull: false, defaultValue: 'requested' })
  status!: ReturnStatus;

  @Column({ type: DataType.TEXT, allowNull: true })
  note!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: true })
  restock!: boolean | null;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  refundAmount!: string;

  @ForeignKey(() => Refund)
  @Column({ type: DataType.UUID, allowNull: true })
  refundId!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  receivedAt!: Date | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'CASCADE' })
  order?: Order;

  @BelongsTo(() => Refund, { foreignKey: 'refundId', as: 'refund', onDelete: 'RESTRICT', constraints: false })
  refund?: Refund | null;

  @HasMany(() => ReturnItem, { foreignKey: 'returnId', as: 'items', onDelete: 'CASCADE' })
  items?: ReturnItem[];
}
