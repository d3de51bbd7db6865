import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, HasMany, Table } from 'sequelize-typescript';
import { AppModel, isUuid } from './app-model';
import {
  DISCOUNT_FUNDERS,
  type DiscountFunder,
  ORDER_STATUSES,
  type OrderStatus,
  PAYMENT_PROVIDERS,
  PAYMENT_STATUSES,
  type PaymentProvider,
  type PaymentStatus,
} from './enums';
import { OrderItem } from './order-item.model';
import { OrderShipping } from './order-shipping.model';
import { OrderStatusHistory } from './order-status-history.model';
import { Refund } from './refund.model';
import { Transaction } from './transaction.model';
import { User } from './user.model';

/** Stored as checkout takes it: the optional lines may be absent, empty or null. */
export interface Address {
  firstName: string;
  lastName: string;
  address1: string;
  address2?: string | null;
  city: string;
  state?: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  phone?: string | null;
}

export interface OrderAttributes {
  id: string;
  /** ORD-YYYYMMDD-XXXXXX, made by the order service. */
  orderNumber: string;
  userId: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  paymentProvider: PaymentProvider | null;
  paymentIntentId: string | null;
  /** The attempt whose idempotency key makes the order's payment intent; it moves on only past a canceled intent. */
  intentAttempt: number;
  /** Lowercase ISO 4217 code, as Stripe writes it. */
  currency: string;
  /**
   * Money: decimal strings such as "19.99"; total = subtotal + tax + shipping - discount (CHECK),
   * without the tax when prices include it.
   */
  subtotal: string;
  taxAmount: string;
  shippingAmount: string;
  discountAmount: string;
  totalAmount: string;
  amountPaid: string;
  amountRefunded: string;
  /** The promotion whose code the order was placed with (its use is in promotion_uses). */
  promotionId: string | null;
  promotionCode: string | null;
  /** Who bears discountAmount: the platform, or the seller whose code it is. */
  discountFundedBy: DiscountFunder | null;
  /** The tax rate of the destination when the order was placed (0..1). */
  taxRate: string;
  /** Whether the prices included tax when the order was placed (taxAmount is then inside subtotal). */
  pricesIncludeTax: boolean;
  shippingAddress: Address;
  billingAddress: Address | null;
  notes: string | null;
  internalNotes: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  disputed: boolean;
  /** Payment deadline of a pending order; the expiry job cancels it after this. */
  expiresAt: Date | null;
  paidAt: Date | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  cancelledAt: Date | null;
  cancellationReason: string | null;
  refundedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type OrderCreationAttributes = Optional<
  OrderAttributes,
  | 'id'
  | 'status'
  | 'paymentStatus'
  | 'currency'
  | 'taxAmount'
  | 'shippingAmount'
  | 'discountAmount'
  | 'amountPaid'
  | 'amountRefunded'
  | 'disputed'
  | 'intentAttempt'
  | 'promotionId'
  | 'promotionCode'
  | 'discountFundedBy'
  | 'taxRate'
  | 'pricesIncludeTax'
  | 'createdAt'
  | 'updatedAt'
>;

@Table({
  tableName: 'orders',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'orders_order_number_key', unique: true, fields: ['order_number'] },
    { name: 'orders_payment_intent_id_key', unique: true, fields: ['payment_intent_id'] },
    { name: 'orders_user_id_created_at_idx', fields: ['user_id', { name: 'created_at', order: 'DESC' }] },
    { name: 'orders_status_created_at_idx', fields: ['status', 'created_at'] },
    { name: 'orders_created_at_idx', fields: ['created_at'] },
    { name: 'orders_pending_expires_at_idx', fields: ['expires_at'], where: { status: 'pending' } },
    { name: 'orders_paid_at_idx', fields: ['paid_at'], where: { paid_at: { [Op.ne]: null } } },
    { name: 'orders_promotion_id_idx', fields: ['promotion_id'], where: { promotion_id: { [Op.ne]: null } } },
  ],
})
export class Order extends AppModel<OrderAttributes, OrderCreationAttributes> implements OrderAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(32), allowNull: false })
  orderNumber!: string;

  /** Users with orders cannot be deleted (RESTRICT): orders are accounting records. */
  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.ENUM(...ORDER_STATUSES), allowNull: false, defaultValue: 'pending' })
  status!: OrderStatus;

  @Column({ type: DataType.ENUM(...PAYMENT_STATUSES), allowNull: false, defaultValue: 'unpaid' })
  paymentStatus!: PaymentStatus;

  @Column({ type: DataType.ENUM(...PAYMENT_PROVIDERS), allowNull: true })
  paymentProvider!: PaymentProvider | null;

  @Column({ type: DataType.STRING(255), allowNull: true })
  paymentIntentId!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  intentAttempt!: number;

  @Column({ type: DataType.CHAR(3), allowNull: false, defaultValue: 'usd' })
  currency!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  subtotal!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  taxAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  shippingAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  discountAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  totalAmount!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  amountPaid!: string;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false, defaultValue: '0.00' })
  amountRefunded!: string;

  @Column({ type: DataType.UUID, allowNull: true })
  promotionId!: string | null;

  @Column({ type: DataType.STRING(50), allowNull: true })
  promotionCode!: string | null;

  @Column({ type: DataType.ENUM(...DISCOUNT_FUNDERS), allowNull: true })
  discountFundedBy!: DiscountFunder | null;

  @Column({ type: DataType.DECIMAL(5, 4), allowNull: false, defaultValue: '0.0000' })
  taxRate!: string;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  pricesIncludeTax!: boolean;

  @Column({ type: DataType.JSONB, allowNull: false })
  shippingAddress!: Address;

  @Column({ type: DataType.JSONB, allowNull: true })
  billingAddress!: Address | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  notes!: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  internalNotes!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: true })
  trackingNumber!: string | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  trackingUrl!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  disputed!: boolean;

  @Column({ type: DataType.DATE, allowNull: true })
  expiresAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  paidAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  shippedAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  deliveredAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  cancelledAt!: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  cancellationReason!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  refundedAt!: Date | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'RESTRICT' })
  user?: User;

  @HasMany(() => OrderItem, { foreignKey: 'orderId', as: 'items', onDelete: 'CASCADE' })
  items?: OrderItem[];

  @HasMany(() => OrderShipping, { foreignKey: 'orderId', as: 'shipping', onDelete: 'CASCADE' })
  shipping?: OrderShipping[];

  @HasMany(() => OrderStatusHistory, { foreignKey: 'orderId', as: 'history', onDelete: 'CASCADE' })
  history?: OrderStatusHistory[];

  @HasMany(() => Transaction, { foreignKey: 'orderId', as: 'transactions', onDelete: 'RESTRICT' })
  transactions?: Transaction[];

  @HasMany(() => Refund, { foreignKey: 'orderId', as: 'refunds', onDelete: 'RESTRICT' })
  refunds?: Refund[];

  static findByOrderNumber(orderNumber: string): Promise<Order | null> {
    return Order.findOne({ where: { orderNumber } });
  }

  static findByPaymentIntentId(paymentIntentId: string): Promise<Order | null> {
    return Order.findOne({ where: { paymentIntentId } });
  }

  /** The order with this id if it belongs to this user (else null, as if it did not exist). */
  static async findOwnedBy(id: string, userId: string): Promise<Order | null> {
    if (!isUuid(id)) return null;
    return Order.findOne({ where: { id, userId } });
  }

  canBeCancelled(): boolean {
    return this.status === 'pending' || this.status === 'confirmed';
  }

  canBeShipped(): boolean {
    return this.status === 'confirmed' || this.status === 'processing';
  }

  isDelivered(): boolean {
    return this.status === 'delivered';
  }

  /** True once a payment was recorded, even if it was refunded since. */
  hasBeenPaid(): boolean {
    return this.paymentStatus !== 'unpaid';
  }
}
