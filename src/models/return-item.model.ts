import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { OrderItem } from './order-item.model';
import { Return } from './return.model';

/** Units of one order line in a return. */
export interface ReturnItemAttributes {
  id: string;
  returnId: string;
  orderItemId: string;
  quantity: number;
  reason: string;
}

export type ReturnItemCreationAttributes = Optional<ReturnItemAttributes, 'id'>;

@Table({
  tableName: 'return_items',
  underscored: true,
  timestamps: false,
  indexes: [
    { name: 'return_items_return_id_order_item_id_key', unique: true, fields: ['return_id', 'order_item_id'] },
    { name: 'return_items_order_item_id_idx', fields: ['order_item_id'] },
  ],
})
export class ReturnItem extends AppModel<ReturnItemAttributes, ReturnItemCreationAttributes> implements ReturnItemAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Return)
  @Column({ type: DataType.UUID, allowNull: false })
  returnId!: string;

  @ForeignKey(() => OrderItem)
  @Column({ type: DataType.UUID, allowNull: false })
  orderItemId!: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  quantity!: number;

  @Column({ type: DataType.STRING(500), allowNull: false })
  reason!: string;

  @BelongsTo(() => Return, { foreignKey: 'returnId', as: 'return', onDelete: 'CASCADE' })
  return?: Return;

  @BelongsTo(() => OrderItem, { foreignKey: 'orderItemId', as: 'orderItem', onDelete: 'CASCADE' })
  orderItem?: OrderItem;
}
