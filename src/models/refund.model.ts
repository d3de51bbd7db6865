import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { REFUND_STATUSES, type RefundStatus } from './enums';
import { Order } from './order.model';
import { Transaction } from './transaction.model';
import { User } from './user.model';

export interface RefundAttributes {
  id: string;
  orderId: string;
  /** The refund transaction, once it exists. */
  transactionId: string | null;
  /** Money: decimal string, > 0. */
  amount: string;
  reason: string | null;
  status: RefundStatus;
  providerRefundId: string | null;
  /** Whether the refunded lines' stock was put back. */
  restock: boolean;
  createdBy: string | null;
  /** The payment this refund returns when it is not the order's own (a surplus payment). */
  paymentTransactionId: string | null;
  /** The lines this refund is for (the lines an admin cancelled); null: spread over the order's lines. */
  itemIds: string[] | null;
  /** The return this refund pays back (receiving a return makes it). */
  returnId: string | null;
  /** Provider calls for it that got no answer; a retried request takes over a refund that has some. */
  providerFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

export type RefundCreationAttributes = Optional<RefundAttributes, 'id' | 'status' | 'restock' | 'paymentTransactionId' | 'itemIds' | 'returnId' | 'providerFailures' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'refunds',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'refunds_order_id_idx', fields: ['order_id'] },
    { name: 'refunds_provider_refund_id_key', unique: true, fields: ['provider_refund_id'] },
    // One refund of a surplus payment pending or made; refused ones do not count.
    {
      name: 'refunds_payment_transaction_id_key',
      unique: true,
      fields: ['payment_transaction_id'],
      where: { payment_transaction_id: { [Op.ne]: null }, status: { [Op.ne]: 'failed' } },
    },
    { name: 'refunds_pending_updated_at_idx', fields: ['updated_at'], where: { status: 'pending' } },
    { name: 'refunds_return_id_key', unique: true, fields: ['return_id'], where: { return_id: { [Op.ne]: null } } },
  ],
})
export class Refund extends AppModel<RefundAttributes, RefundCreationAttributes> implements RefundAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @ForeignKey(() => Transaction)
  @Column({ type: DataType.UUID, allowNull: true })
  transactionId!: string | null;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  amount!: string;

  @Column({ type: DataType.TEXT, allowNull: true })
  reason!: string | null;

  @Column({ type: DataType.ENUM(...REFUND_STATUSES), allowNull: false, defaultValue: 'pending' })
  status!: RefundStatus;

  @Column({ type: DataType.STRING(255), allowNull: true })
  providerRefundId!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  restock!: boolean;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  createdBy!: string | null;

  @ForeignKey(() => Transaction)
  @Column({ type: DataType.UUID, allowNull: true })
  paymentTransactionId!: string | null;

  @Column({ type: DataType.ARRAY(DataType.UUID), allowNull: true })
  itemIds!: string[] | null;

  @Column({ type: DataType.UUID, allowNull: true })
  returnId!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  providerFailures!: number;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'RESTRICT' })
  order?: Order;

  @BelongsTo(() => Transaction, { foreignKey: 'transactionId', as: 'transaction', onDelete: 'RESTRICT' })
  transaction?: Transaction | null;

  @BelongsTo(() => User, { foreignKey: 'createdBy', as: 'creator', onDelete: 'SET NULL' })
  creator?: User | null;

  static findByProviderRefundId(providerRefundId: string): Promise<Refund | null> {
    return Refund.findOne({ where: { providerRefundId } });
  }
}
