import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/** A seller's shipping rate: what one parcel of that seller costs to the countries it covers. */
export interface ShippingRateAttributes {
  id: string;
  sellerId: string;
  name: string;
  /** ISO 3166-1 alpha-2 codes, or ['*'] for everywhere. */
  countries: string[];
  /** Money: decimal strings. */
  price: string;
  /** The seller's discounted subtotal from which this rate is free. */
  freeOver: string | null;
  estimatedDays: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export type ShippingRateCreationAttributes = Optional<ShippingRateAttributes, 'id' | 'freeOver' | 'estimatedDays' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'shipping_rates',
  underscored: true,
  timestamps: true,
  indexes: [{ name: 'shipping_rates_seller_id_price_idx', fields: ['seller_id', 'price'] }],
})
export class ShippingRate extends AppModel<ShippingRateAttributes, ShippingRateCreationAttributes> implements ShippingRateAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  name!: string;

  @Column({ type: DataType.ARRAY(DataType.STRING(2)), allowNull: false })
  countries!: string[];

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: false })
  price!: string;

  @Column({ type: DataType.DECIMAL(10, 2), allowNull: true })
  freeOver!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: true })
  estimatedDays!: number | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'CASCADE' })
  seller?: User;
}
