import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import {
  PAYMENT_PROVIDERS,
  type PaymentProvider,
  TRANSACTION_STATUSES,
  TRANSACTION_TYPES,
  type TransactionStatus,
  type TransactionType,
} from './enums';
import { Order } from './order.model';
import { User } from './user.model';

/**
 * A money movement with the payment provider (named Transaction after the plan; import it as
 * `PaymentTransaction` where Sequelize's own `Transaction` type is also in scope).
 */
export interface TransactionAttributes {
  id: string;
  orderId: string;
  type: TransactionType;
  provider: PaymentProvider;
  /** Payment intent, charge or refund id at the provider; unique per provider and type. */
  providerReference: string | null;
  /** Money: decimal string such as "19.99". */
  amount: string;
  currency: string;
  status: TransactionStatus;
  failureReason: string | null;
  metadata: Record<string, unknown> | null;
  /** The admin who recorded a manual payment or refund. */
  recordedBy: string | null;
  /** A successful payment beyond the one that paid the order: outside the order's amounts, refunded automatically. */
  surplus: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type TransactionCreationAttributes = Optional<TransactionAttributes, 'id' | 'status' | 'surplus' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'transactions',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'transactions_order_id_idx', fields: ['order_id'] },
    { name: 'transactions_status_created_at_idx', fields: ['status', 'created_at'] },
    { name: 'transactions_type_status_created_at_idx', fields: ['type', 'status', 'created_at'] },
    { name: 'transactions_surplus_created_at_idx', fields: ['created_at'], where: { surplus: true } },
    {
      name: 'transactions_provider_type_provider_reference_key',
      unique: true,
      fields: ['provider', 'type', 'provider_reference'],
      where: { provider_reference: { [Op.ne]: null } },
    },
  ],
})
export class Transaction
  extends AppModel<TransactionAttributes, TransactionCreationAttributes>
  implements TransactionAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  /** Orders with money records cannot be deleted (RESTRICT). */
  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @Column({ type: DataType.ENUM(...TRANSACTION_TYPES), allowNull: false })
  type!: TransactionType;

  @Column({ type: DataType.ENUM(...PAYMENT_PROVIDERS), allowNull: false })
  provider!: PaymentProvider;

  @Column({ type: DataType.STRING(255), allowNull: true })
  providerReference!: string | null;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  amount!: string;

  @Column({ type: DataType.CHAR(3), allowNull: false })
  currency!: string;

  @Column({ type: DataType.ENUM(...TRANSACTION_STATUSES), allowNull: false, defaultValue: 'pending' })
  status!: TransactionStatus;

  @Column({ type: DataType.TEXT, allowNull: true })
  failureReason!: string | null;

  @Column({ type: DataType.JSONB, allowNull: true })
  metadata!: Record<string, unknown> | null;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  recordedBy!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  surplus!: boolean;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'RESTRICT' })
  order?: Order;

  @BelongsTo(() => User, { foreignKey: 'recordedBy', as: 'recorder', onDelete: 'SET NULL' })
  recorder?: User | null;

  static findByProviderReference(
    provider: PaymentProvider,
    type: TransactionType,
    providerReference: string,
  ): Promise<Transaction | null> {
    return Transaction.findOne({ where: { provider, type, providerReference } });
  }
}
