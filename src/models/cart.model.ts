import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, HasMany, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { CartItem } from './cart-item.model';
import { User } from './user.model';

export interface CartAttributes {
  id: string;
  /** Set for a signed-in user's cart (one per user). */
  userId: string | null;
  /** sha256 hex of a guest cart's X-Cart-Token. A cart has a user, a token, or both. */
  tokenHash: string | null;
  expiresAt: Date | null;
  /** The promotion code the cart carries (upper case), checked again at checkout. */
  promoCode: string | null;
  /** Its lines, counted by the database (triggers on cart_items) under a CHECK of the line limit. */
  lineCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CartCreationAttributes = Optional<CartAttributes, 'id' | 'promoCode' | 'lineCount' | 'createdAt' | 'updatedAt'>;

export type PublicCartAttributes = Omit<CartAttributes, 'tokenHash'>;

@Table({
  tableName: 'carts',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'carts_user_id_key', unique: true, fields: ['user_id'] },
    { name: 'carts_token_hash_key', unique: true, fields: ['token_hash'] },
  ],
})
export class Cart extends AppModel<CartAttributes, CartCreationAttributes> implements CartAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  userId!: string | null;

  @Column({ type: DataType.STRING(64), allowNull: true })
  tokenHash!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  expiresAt!: Date | null;

  @Column({ type: DataType.STRING(50), allowNull: true })
  promoCode!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  lineCount!: number;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User | null;

  @HasMany(() => CartItem, { foreignKey: 'cartId', as: 'items', onDelete: 'CASCADE' })
  items?: CartItem[];

  static findByUserId(userId: string): Promise<Cart | null> {
    return Cart.findOne({ where: { userId } });
  }

  /** The guest cart whose token has this sha256 hex hash (expired or not: the caller decides). */
  static findByTokenHash(tokenHash: string): Promise<Cart | null> {
    return Cart.findOne({ where: { tokenHash } });
  }

  isExpired(now: Date = new Date()): boolean {
    return this.expiresAt !== null && this.expiresAt.getTime() <= now.getTime();
  }

  override toJSON<T extends PublicCartAttributes = PublicCartAttributes>(): T {
    const json = super.toJSON() as Partial<CartAttributes>;
    delete json.tokenHash;
    return json as T;
  }
}
