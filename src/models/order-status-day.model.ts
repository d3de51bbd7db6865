import { Column, DataType, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { ORDER_STATUSES, type OrderStatus } from './enums';

/**
 * The orders created on one UTC day that have one status now, as last compacted: add the day's
 * rows of order_status_deltas for the count as it stands. The column's type is the orders' own
 * status enum (enum_orders_status). Written in SQL only (migration 0018, the compaction job, stats:rebuild).
 */
export interface OrderStatusDayAttributes {
  /** YYYY-MM-DD, UTC, of the orders' createdAt. */
  day: string;
  status: OrderStatus;
  orders: number;
}

@Table({ tableName: 'order_status_days', underscored: true, timestamps: false })
export class OrderStatusDay extends AppModel<OrderStatusDayAttributes, OrderStatusDayAttributes> implements OrderStatusDayAttributes {
  @Column({ type: DataType.DATEONLY, primaryKey: true })
  day!: string;

  @Column({ type: DataType.ENUM(...ORDER_STATUSES), primaryKey: true })
  status!: OrderStatus;

  @Column({ type: DataType.INTEGER, allowNull: false })
  orders!: number;
}
