import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { HISTORY_ACTOR_ROLES, type HistoryActorRole, ORDER_STATUSES, type OrderStatus } from './enums';
import { Order } from './order.model';
import { User } from './user.model';

/** One row per order status move, appended in the same transaction as the move. */
export interface OrderStatusHistoryAttributes {
  id: string;
  orderId: string;
  /** Null for the first row (order placed). */
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  note: string | null;
  /** Null for moves made by the system (expiry job, webhooks) or once the actor is deleted. */
  actorId: string | null;
  actorRole: HistoryActorRole;
  createdAt: Date;
}

export type OrderStatusHistoryCreationAttributes = Optional<OrderStatusHistoryAttributes, 'id' | 'createdAt'>;

@Table({
  tableName: 'order_status_history',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [{ name: 'order_status_history_order_id_created_at_idx', fields: ['order_id', 'created_at'] }],
})
export class OrderStatusHistory
  extends AppModel<OrderStatusHistoryAttributes, OrderStatusHistoryCreationAttributes>
  implements OrderStatusHistoryAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: false })
  orderId!: string;

  @Column({ type: DataType.ENUM(...ORDER_STATUSES), allowNull: true })
  fromStatus!: OrderStatus | null;

  @Column({ type: DataType.ENUM(...ORDER_STATUSES), allowNull: false })
  toStatus!: OrderStatus;

  @Column({ type: DataType.TEXT, allowNull: true })
  note!: string | null;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  actorId!: string | null;

  @Column({ type: DataType.ENUM(...HISTORY_ACTOR_ROLES), allowNull: false })
  actorRole!: HistoryActorRole;

  override createdAt!: Date;

  @BelongsTo(() => Order, { foreignKey: 'orderId', as: 'order', onDelete: 'CASCADE' })
  order?: Order;

  @BelongsTo(() => User, { foreignKey: 'actorId', as: 'actor', onDelete: 'SET NULL' })
  actor?: User | null;

  /** The history of an order, oldest first. */
  static findForOrder(orderId: string): Promise<OrderStatusHistory[]> {
    return OrderStatusHistory.findAll({ where: { orderId }, order: [['createdAt', 'ASC'], ['id', 'ASC']] });
  }
}
