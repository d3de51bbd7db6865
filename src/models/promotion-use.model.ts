import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { Order } from './order.model';
import { Promotion } from './promotion.model';
import { User } from './user.model';

/** The use of a promotion an order took at checkout; released (once) when the order is cancelled or expires unpaid. */
export interface PromotionUseAttributes {
  id: string;
  promotionId: string;
  orderId: string;
  userId: string;
  releasedAt: Date | null;
  createdAt: Date;
}

export type PromotionUseCreationAttributes = Optional<PromotionUseAttributes, 'id' | 'releasedAt' | 'createdAt'>;

@Table({
  tableName: 'promotion_uses',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [
    { name: 'promotion_uses_order_id_key', unique: true, fields: ['order_id'] },
    { name: 'promotion_uses_promotion_id_user_id_idx', fields: ['promotion_id', 'user_id'], where: { released_at: { [Op.is]: null } } },
  ],
})
export class PromotionUse extends AppModel<PromotionUseAttributes, PromotionUseCreationAttributes> implements PromotionUseAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Promotion)
  @Column({ type: DataType.UUID, allowNull: false })
  promotionId!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.DATE, allowNull: true })
  releasedAt!: Date | null;

  override createdAt!: Date;

  @BelongsTo(() => Promotion, { foreignKey: 'promotionId', as: 'promotion', onDelete: 'CASCADE' })
  promotion?: Promotion;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'CASCADE' })
  order?: Order;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;
}
