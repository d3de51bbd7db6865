import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/** Free-form payout instructions (bank account, Stripe Connect account id…); the service shapes and hides them. */
export type PayoutDetails = Record<string, unknown>;

export interface SellerProfileAttributes {
  id: string;
  userId: string;
  storeName: string;
  storeSlug: string;
  storeDescription: string | null;
  logoUrl: string | null;
  payoutDetails: PayoutDetails | null;
  /** Decimal string such as "0.1000"; null means the platform's PLATFORM_COMMISSION_RATE. */
  commissionRate: string | null;
  approvedAt: Date | null;
  approvedBy: string | null;
  rejectedAt: Date | null;
  rejectionReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SellerProfileCreationAttributes = Optional<SellerProfileAttributes, 'id' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'seller_profiles',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'seller_profiles_user_id_key', unique: true, fields: ['user_id'] },
    { name: 'seller_profiles_store_slug_key', unique: true, fields: ['store_slug'] },
  ],
})
export class SellerProfile
  extends AppModel<SellerProfileAttributes, SellerProfileCreationAttributes>
  implements SellerProfileAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  storeName!: string;

  @Column({ type: DataType.STRING(120), allowNull: false })
  storeSlug!: string;

  @Column({ type: DataType.TEXT, allowNull: true })
  storeDescription!: string | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  logoUrl!: string | null;

  @Column({ type: DataType.JSONB, allowNull: true })
  payoutDetails!: PayoutDetails | null;

  @Column({ type: DataType.DECIMAL(5, 4), allowNull: true })
  commissionRate!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  approvedAt!: Date | null;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  approvedBy!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  rejectedAt!: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  rejectionReason!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;

  @BelongsTo(() => User, { foreignKey: 'approvedBy', as: 'approver', onDelete: 'SET NULL' })
  approver?: User | null;

  static findByUserId(userId: string): Promise<SellerProfile | null> {
    return SellerProfile.findOne({ where: { userId } });
  }

  static findByStoreSlug(storeSlug: string): Promise<SellerProfile | null> {
    return SellerProfile.findOne({ where: { storeSlug } });
  }
}
