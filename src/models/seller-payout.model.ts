import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, HasMany, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { PAYOUT_STATUSES, type PayoutStatus } from './enums';
import { OrderItem } from './order-item.model';
import { User } from './user.model';

/** What the platform owes one seller for one period: one row per seller and period (unique). */
export interface SellerPayoutAttributes {
  id: string;
  sellerId: string;
  periodStart: Date;
  periodEnd: Date;
  /** Money: decimal strings; net = gross - commission - refund (CHECK); commission may be negative when commission given back on refunds outweighs it. */
  grossAmount: string;
  commissionAmount: string;
  refundAmount: string;
  netAmount: string;
  currency: string;
  status: PayoutStatus;
  paidAt: Date | null;
  /** Bank transfer or Stripe transfer reference, set when paid. */
  reference: string | null;
  itemCount: number;
  /** The Stripe transfer that paid it (sellers with a Connect account). */
  transferId: string | null;
  /** Why the last transfer attempt failed, for an admin to look at. */
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SellerPayoutCreationAttributes = Optional<
  SellerPayoutAttributes,
  'id' | 'status' | 'itemCount' | 'transferId' | 'failureReason' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'seller_payouts',
  underscored: true,
  timestamps: true,
  indexes: [
    {
      name: 'seller_payouts_seller_id_period_start_period_end_key',
      unique: true,
      fields: ['seller_id', 'period_start', 'period_end'],
    },
    { name: 'seller_payouts_status_created_at_idx', fields: ['status', 'created_at'] },
    { name: 'seller_payouts_seller_id_created_at_idx', fields: ['seller_id', 'created_at'] },
  ],
})
export class SellerPayout
  extends AppModel<SellerPayoutAttributes, SellerPayoutCreationAttributes>
  implements SellerPayoutAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.DATE, allowNull: false })
  periodStart!: Date;

  @Column({ type: DataType.DATE, allowNull: false })
  periodEnd!: Date;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  grossAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  commissionAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  refundAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  netAmount!: string;

  @Column({ type: DataType.CHAR(3), allowNull: false })
  currency!: string;

  @Column({ type: DataType.ENUM(...PAYOUT_STATUSES), allowNull: false, defaultValue: 'pending' })
  status!: PayoutStatus;

  @Column({ type: DataType.DATE, allowNull: true })
  paidAt!: Date | null;

  @Column({ type: DataType.STRING(255), allowNull: true })
  reference!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  itemCount!: number;

  @Column({ type: DataType.STRING(255), allowNull: true })
  transferId!: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  failureReason!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'RESTRICT' })
  seller?: User;

  @HasMany(() => OrderItem, { foreignKey: 'payoutId', as: 'items', onDelete: 'SET NULL' })
  items?: OrderItem[];
}
