import type { Optional } from 'sequelize';
import { Column, DataType, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';

/** A tax rate of a destination: a country, or a state of it (the more specific one wins). */
export interface TaxRateAttributes {
  id: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Upper case; null: the whole country. */
  state: string | null;
  /** 0..1, four decimals, as a decimal string. */
  rate: string;
  name: string;
  appliesToShipping: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type TaxRateCreationAttributes = Optional<TaxRateAttributes, 'id' | 'state' | 'appliesToShipping' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'tax_rates',
  underscored: true,
  timestamps: true,
  // NULLS NOT DISTINCT (migration 0013): one country-wide rate per country.
  indexes: [{ name: 'tax_rates_country_state_key', unique: true, fields: ['country', 'state'] }],
})
export class TaxRate extends AppModel<TaxRateAttributes, TaxRateCreationAttributes> implements TaxRateAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.CHAR(2), allowNull: false })
  country!: string;

  @Column({ type: DataType.STRING(100), allowNull: true })
  state!: string | null;

  @Column({ type: DataType.DECIMAL(5, 4), allowNull: false })
  rate!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  name!: string;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  appliesToShipping!: boolean;

  override createdAt!: Date;
  override updatedAt!: Date;
}
