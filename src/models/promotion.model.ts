import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { PROMOTION_TYPES, type PromotionType } from './enums';
import { User } from './user.model';

/** A promotion code: the platform's (sellerId null) or a seller's, for that seller's lines only. */
export interface PromotionAttributes {
  id: string;
  /** Upper case; unique. Customers may type it in any case. */
  code: string;
  sellerId: string | null;
  type: PromotionType;
  /** A percent (10 is 10 %) for `percentage`, money for `fixed`, null for `free_shipping`. */
  value: string | null;
  minSubtotal: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  usageLimitPerCustomer: number | null;
  productIds: string[] | null;
  categoryIds: string[] | null;
  active: boolean;
  /** Uses taken by orders and not given back; never above usageLimit (CHECK). */
  usedCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type PromotionCreationAttributes = Optional<
  PromotionAttributes,
  | 'id'
  | 'sellerId'
  | 'value'
  | 'minSubtotal'
  | 'startsAt'
  | 'endsAt'
  | 'usageLimit'
  | 'usageLimitPerCustomer'
  | 'productIds'
  | 'categoryIds'
  | 'active'
  | 'usedCount'
  | 'createdAt'
  | 'updatedAt'
>;

@Table({
  tableName: 'promotions',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'promotions_code_key', unique: true, fields: ['code'] },
    { name: 'promotions_seller_id_created_at_idx', fields: ['seller_id', 'created_at'] },
  ],
})
export class Promotion extends AppModel<PromotionAttributes, PromotionCreationAttributes> implements PromotionAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(50), allowNull: false })
  code!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  sellerId!: string | null;

  @Column({ type: DataType.ENUM(...PROMOTION_TYPES), allowNull: false })
  type!: PromotionType;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: true })
  value!: string | null;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: true })
  minSubtotal!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  startsAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  endsAt!: Date | null;

  @Column({ type: DataType.INTEGER, allowNull: true })
  usageLimit!: number | null;

  @Column({ type: DataType.INTEGER, allowNull: true })
  usageLimitPerCustomer!: number | null;

  @Column({ type: DataType.ARRAY(DataType.UUID), allowNull: true })
  productIds!: string[] | null;

  @Column({ type: DataType.ARRAY(DataType.UUID), allowNull: true })
  categoryIds!: string[] | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: true })
  active!: boolean;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  usedCount!: number;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'CASCADE' })
  seller?: User | null;
}
