import type { InitOptions, ModelAttributes } from 'sequelize';
import { Column, DataType, type Model, type ModelStatic, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { ORDER_STATUSES, type OrderStatus } from './enums';

/**
 * A change of order_status_days not compacted yet: +1 for the (day, status) an order was placed or
 * moved into, −1 for the one it left, inserted by triggers on orders (never updated: checkouts
 * never wait on each other here). Insert-only and without a key; the status column's type is
 * enum_orders_status. Read and written in SQL only.
 */
export interface OrderStatusDeltaAttributes {
  /** YYYY-MM-DD, UTC, of the order's createdAt. */
  day: string;
  status: OrderStatus;
  delta: number;
}

@Table({ tableName: 'order_status_deltas', underscored: true, timestamps: false })
export class OrderStatusDelta extends AppModel<OrderStatusDeltaAttributes, OrderStatusDeltaAttributes> implements OrderStatusDeltaAttributes {
  @Column({ type: DataType.DATEONLY, allowNull: false })
  day!: string;

  @Column({ type: DataType.ENUM(...ORDER_STATUSES), allowNull: false })
  status!: OrderStatus;

  @Column({ type: DataType.SMALLINT, allowNull: false })
  delta!: number;

  /** The table has no key: Sequelize's default `id` is taken off once the model is initialised. */
  static override initialize<MS extends ModelStatic<Model>, M extends InstanceType<MS>>(attributes: ModelAttributes, options: InitOptions): MS {
    const initialized = super.initialize<MS, M>(attributes, options);
    this.removeAttribute('id');
    return initialized;
  }
}
