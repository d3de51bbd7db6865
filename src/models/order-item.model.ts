import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { FULFILLMENT_STATUSES, type FulfillmentStatus } from './enums';
import { Order } from './order.model';
import { Product } from './product.model';
import { ProductVariant } from './product-variant.model';
import { SellerPayout } from './seller-payout.model';
import { User } from './user.model';

/** A line of an order: a snapshot of the product at checkout, owned by one seller. */
export interface OrderItemAttributes {
  id: string;
  orderId: string;
  /** Null once the product row is gone; the snapshot columns below keep what was sold. */
  productId: string | null;
  /** The variant sold; null once its row is gone (the snapshot keeps its title and SKU). */
  variantId: string | null;
  sellerId: string;
  productName: string;
  /** The variant's title when sold ("M / Red"; "Default" for a product without options). */
  variantTitle: string | null;
  /** The variant's SKU when sold. */
  productSku: string;
  productImage: string | null;
  /** Money: decimal strings; lineTotal = unitPrice × quantity (CHECK). */
  unitPrice: string;
  quantity: number;
  lineTotal: string;
  /** The line's share of the order's discount (largest remainder over the eligible lines). */
  discountAmount: string;
  /** Tax on the discounted line, half up (inside the price when prices include tax). */
  taxAmount: string;
  /**
   * What the seller is credited for the line: lineTotal less a seller promotion's discount (and
   * less the tax when prices include it). The money rules' "lineTotal".
   */
  sellerAmount: string;
  /** What the customer paid for the line: lineTotal − discount (+ tax when prices exclude it). */
  paidAmount: string;
  /** The refunded part of sellerAmount (the money rules' refunded amount). */
  refundedAmount: string;
  /** The refunded part of paidAmount: what went back to the customer for the line. */
  paidRefunded: string;
  /** Units in returns not rejected (never above quantity: CHECK). */
  returnedQuantity: number;
  /** The seller's commission rate when the order was placed (0..1, four decimals). */
  commissionRate: string;
  fulfillmentStatus: FulfillmentStatus;
  trackingNumber: string | null;
  trackingUrl: string | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  /** The seller payout that included this line, once paid out. */
  payoutId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type OrderItemCreationAttributes = Optional<
  OrderItemAttributes,
  'id' | 'variantId' | 'variantTitle' | 'discountAmount' | 'taxAmount' | 'refundedAmount' | 'paidRefunded' | 'returnedQuantity' | 'fulfillmentStatus' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'order_items',
  underscored: true,
  timestamps: true,
  indexes: [
    // INCLUDEs seller_id, product_id, quantity, seller_amount, refunded_amount, commission_rate (migrations 0005, 0013).
    { name: 'order_items_order_id_figures_idx', fields: ['order_id'] },
    { name: 'order_items_seller_id_created_at_idx', fields: ['seller_id', 'created_at'] },
    { name: 'order_items_product_id_idx', fields: ['product_id'] },
    { name: 'order_items_variant_id_idx', fields: ['variant_id'] },
    { name: 'order_items_payout_id_idx', fields: ['payout_id'] },
    { name: 'order_items_seller_id_order_id_idx', fields: ['seller_id', 'order_id'] },
  ],
})
export class OrderItem extends AppModel<OrderItemAttributes, OrderItemCreationAttributes> implements OrderItemAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @ForeignKey(() => Product)
  @Column({ type: DataType.UUID, allowNull: true })
  productId!: string | null;

  @ForeignKey(() => ProductVariant)
  @Column({ type: DataType.UUID, allowNull: true })
  variantId!: string | null;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  productName!: string;

  @Column({ type: DataType.STRING(255), allowNull: true })
  variantTitle!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: false })
  productSku!: string;

  @Column({ type: DataType.STRING(500), allowNull: true })
  productImage!: string | null;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  unitPrice!: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  quantity!: number;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  lineTotal!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  discountAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  taxAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  sellerAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  paidAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  refundedAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  paidRefunded!: string;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  returnedQuantity!: number;

  @Column({ type: DataType.DECIMAL(5, 4), allowNull: false })
  commissionRate!: string;

  @Column({ type: DataType.ENUM(...FULFILLMENT_STATUSES), allowNull: false, defaultValue: 'unfulfilled' })
  fulfillmentStatus!: FulfillmentStatus;

  @Column({ type: DataType.STRING(100), allowNull: true })
  trackingNumber!: string | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  trackingUrl!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  shippedAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  deliveredAt!: Date | null;

  @ForeignKey(() => SellerPayout)
  @Column({ type: DataType.UUID, allowNull: true })
  payoutId!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'CASCADE' })
  order?: Order;

  @BelongsTo(() => Product, { foreignKey: 'productId', as: 'product', onDelete: 'SET NULL' })
  product?: Product | null;

  @BelongsTo(() => ProductVariant, { foreignKey: 'variantId', as: 'variant', onDelete: 'SET NULL' })
  variant?: ProductVariant | null;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'RESTRICT' })
  seller?: User;

  @BelongsTo(() => SellerPayout, { foreignKey: 'payoutId', as: 'payout', onDelete: 'SET NULL' })
  payout?: SellerPayout | null;
}
