import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { OrderItem } from './order-item.model';
import { Product } from './product.model';
import { User } from './user.model';

export interface ReviewAttributes {
  id: string;
  productId: string;
  userId: string;
  /** The delivered order line that allowed the review. */
  orderItemId: string | null;
  /** Integer 1..5 (CHECK). */
  rating: number;
  title: string | null;
  comment: string;
  isVerifiedPurchase: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ReviewCreationAttributes = Optional<ReviewAttributes, 'id' | 'isVerifiedPurchase' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'reviews',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'reviews_product_id_user_id_key', unique: true, fields: ['product_id', 'user_id'] },
    { name: 'reviews_product_id_created_at_idx', fields: ['product_id', { name: 'created_at', order: 'DESC' }] },
    { name: 'reviews_product_id_rating_idx', fields: ['product_id', 'rating'] },
  ],
})
export class Review extends AppModel<ReviewAttributes, ReviewCreationAttributes> implements ReviewAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Product)
  @Column({ type: DataType.UUID, allowNull: false })
  productId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @ForeignKey(() => OrderItem)
  @Column({ type: DataType.UUID, allowNull: true })
  orderItemId!: string | null;

  @Column({ type: DataType.SMALLINT, allowNull: false })
  rating!: number;

  @Column({ type: DataType.STRING(200), allowNull: true })
  title!: string | null;

  @Column({ type: DataType.TEXT, allowNull: false })
  comment!: string;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: true })
  isVerifiedPurchase!: boolean;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Product, { foreignKey: 'productId', as: 'product', onDelete: 'CASCADE' })
  product?: Product;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;

  @BelongsTo(() => OrderItem, { foreignKey: 'orderItemId', as: 'orderItem', onDelete: 'SET NULL' })
  orderItem?: OrderItem | null;

  static findByProductAndUser(productId: string, userId: string): Promise<Review | null> {
    return Review.findOne({ where: { productId, userId } });
  }
}
