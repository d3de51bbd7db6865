import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { Order } from './order.model';
import { ShippingRate } from './shipping-rate.model';
import { User } from './user.model';

/** The shipping of one seller's parcel of an order, as priced at checkout. */
export interface OrderShippingAttributes {
  id: string;
  orderId: string;
  sellerId: string;
  /** The rate chosen; null for the platform default (or once the rate is deleted: name and amounts stay). */
  rateId: string | null;
  name: string;
  estimatedDays: number | null;
  /** Money: decimal strings. The rate's price for this parcel (0 past its free-over threshold). */
  amount: string;
  /** The part of amount a free-shipping promotion took off. */
  discountAmount: string;
  taxAmount: string;
  /** What the seller is credited (a `shipping` ledger entry, no commission). */
  sellerAmount: string;
  /** What the customer paid for it. */
  paidAmount: string;
  /** Of paidAmount, refunded. */
  paidRefunded: string;
  /** When the seller's shipping credit was taken back (every line of the seller refunded). */
  refundedAt: Date | null;
  createdAt: Date;
}

export type OrderShippingCreationAttributes = Optional<
  OrderShippingAttributes,
  'id' | 'rateId' | 'estimatedDays' | 'discountAmount' | 'taxAmount' | 'paidRefunded' | 'refundedAt' | 'createdAt'
>;

@Table({
  tableName: 'order_shipping',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [{ name: 'order_shipping_order_id_seller_id_key', unique: true, fields: ['order_id', 'seller_id'] }],
})
export class OrderShipping extends AppModel<OrderShippingAttributes, OrderShippingCreationAttributes> implements OrderShippingAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @ForeignKey(() => ShippingRate)
  @Column({ type: DataType.UUID, allowNull: true })
  rateId!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: false })
  name!: string;

  @Column({ type: DataType.INTEGER, allowNull: true })
  estimatedDays!: number | null;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  amount!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false, defaultValue: '0.00' })
  discountAmount!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false, defaultValue: '0.00' })
  taxAmount!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  sellerAmount!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  paidAmount!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false, defaultValue: '0.00' })
  paidRefunded!: string;

  @Column({ type: DataType.DATE, allowNull: true })
  refundedAt!: Date | null;

  override createdAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'CASCADE' })
  order?: Order;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'RESTRICT' })
  seller?: User;

  @BelongsTo(() => ShippingRate, { foreignKey: 'rateId', as: 'rate', onDelete: 'SET NULL' })
  rate?: ShippingRate | null;
}
