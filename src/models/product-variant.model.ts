import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { Product } from './product.model';
import { User } from './user.model';

export const VARIANT_STATUSES = ['active', 'inactive'] as const;
export type VariantStatus = (typeof VARIANT_STATUSES)[number];

/** One option value per option name of its product: `{"Size": "M", "Color": "Red"}`; `{}` for a product without options. */
export type VariantOptions = Record<string, string>;

/**
 * What a product sells: its SKU, prices, stock and images. A product has 1..100 of them; one
 * without options has one default variant (title "Default", options `{}`).
 */
export interface ProductVariantAttributes {
  id: string;
  productId: string;
  /** The product's seller, for the SKU's uniqueness within a seller's catalog. */
  sellerId: string;
  sku: string;
  title: string;
  options: VariantOptions;
  /** Money: decimal strings such as "19.99" (numeric(10,2)). */
  price: string;
  comparePrice: string | null;
  costPrice: string | null;
  stockQuantity: number;
  lowStockThreshold: number;
  /** When the seller was mailed that stock fell to the threshold; cleared when stock rises above it again. */
  lowStockAlertedAt: Date | null;
  images: string[];
  status: VariantStatus;
  /** Display order within the product. */
  position: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export type ProductVariantCreationAttributes = Optional<
  ProductVariantAttributes,
  'id' | 'options' | 'comparePrice' | 'costPrice' | 'stockQuantity' | 'lowStockThreshold' | 'lowStockAlertedAt' | 'images' | 'status' | 'position' | 'createdAt' | 'updatedAt' | 'deletedAt'
>;

@Table({
  tableName: 'product_variants',
  underscored: true,
  timestamps: true,
  paranoid: true,
  indexes: [
    { name: 'product_variants_seller_id_sku_key', unique: true, fields: ['seller_id', 'sku'], where: { deleted_at: null } },
    { name: 'product_variants_product_id_options_key', unique: true, fields: ['product_id', 'options'], where: { deleted_at: null } },
  ],
})
export class ProductVariant extends AppModel<ProductVariantAttributes, ProductVariantCreationAttributes> implements ProductVariantAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Product)
  @Column({ type: DataType.UUID, allowNull: false })
  productId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  sku!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  title!: string;

  @Column({ type: DataType.JSONB, allowNull: false, defaultValue: {} })
  options!: VariantOptions;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  price!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: true })
  comparePrice!: string | null;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: true })
  costPrice!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  stockQuantity!: number;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 10 })
  lowStockThreshold!: number;

  @Column({ type: DataType.DATE, allowNull: true })
  lowStockAlertedAt!: Date | null;

  @Column({ type: DataType.JSONB, allowNull: false, defaultValue: [] })
  images!: string[];

  @Column({ type: DataType.STRING(10), allowNull: false, defaultValue: 'active' })
  status!: VariantStatus;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  position!: number;

  override createdAt!: Date;
  override updatedAt!: Date;
  override deletedAt!: Date | null;

  @BelongsTo(() => Product, { foreignKey: 'productId', as: 'product', onDelete: 'CASCADE' })
  product?: Product;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'RESTRICT' })
  seller?: User;
}
