import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { Cart } from './cart.model';
import { Product } from './product.model';
import { ProductVariant } from './product-variant.model';

export const MAX_CART_ITEM_QUANTITY = 1000;

export interface CartItemAttributes {
  id: string;
  cartId: string;
  productId: string;
  /** The variant bought; `productId` is its product. */
  variantId: string;
  /** 1..1000 (CHECK); prices are read from the product, never stored in the cart. */
  quantity: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CartItemCreationAttributes = Optional<CartItemAttributes, 'id' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'cart_items',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'cart_items_cart_id_variant_id_key', unique: true, fields: ['cart_id', 'variant_id'] },
    { name: 'cart_items_product_id_idx', fields: ['product_id'] },
    { name: 'cart_items_variant_id_idx', fields: ['variant_id'] },
  ],
})
export class CartItem extends AppModel<CartItemAttributes, CartItemCreationAttributes> implements CartItemAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Cart)
  @Column({ type: DataType.UUID, allowNull: false })
  cartId!: string;

  @ForeignKey(() => Product)
  @Column({ type: DataType.UUID, allowNull: false })
  productId!: string;

  @ForeignKey(() => ProductVariant)
  @Column({ type: DataType.UUID, allowNull: false })
  variantId!: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  quantity!: number;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Cart, { foreignKey: 'cartId', as: 'cart', onDelete: 'CASCADE' })
  cart?: Cart;

  @BelongsTo(() => Product, { foreignKey: 'productId', as: 'product', onDelete: 'CASCADE' })
  product?: Product;

  @BelongsTo(() => ProductVariant, { foreignKey: 'variantId', as: 'variant', onDelete: 'CASCADE' })
  variant?: ProductVariant;
}
