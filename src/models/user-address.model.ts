import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/** An address of a customer's address book (checkout copies it into the order). */
export interface UserAddressAttributes {
  id: string;
  userId: string;
  label: string | null;
  firstName: string;
  lastName: string;
  address1: string;
  address2: string | null;
  city: string;
  state: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  phone: string | null;
  isDefaultShipping: boolean;
  isDefaultBilling: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type UserAddressCreationAttributes = Optional<UserAddressAttributes, 'id' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'user_addresses',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'user_addresses_user_id_created_at_idx', fields: ['user_id', 'created_at'] },
    { name: 'user_addresses_default_shipping_key', unique: true, fields: ['user_id'], where: { is_default_shipping: true } },
    { name: 'user_addresses_default_billing_key', unique: true, fields: ['user_id'], where: { is_default_billing: true } },
  ],
})
export class UserAddress extends AppModel<UserAddressAttributes, UserAddressCreationAttributes> implements UserAddressAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.STRING(50), allowNull: true })
  label!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: false })
  firstName!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  lastName!: string;

  @Column({ type: DataType.STRING(200), allowNull: false })
  address1!: string;

  @Column({ type: DataType.STRING(200), allowNull: true })
  address2!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: false })
  city!: string;

  @Column({ type: DataType.STRING(100), allowNull: true })
  state!: string | null;

  @Column({ type: DataType.STRING(20), allowNull: false })
  postalCode!: string;

  @Column({ type: DataType.CHAR(2), allowNull: false })
  country!: string;

  @Column({ type: DataType.STRING(30), allowNull: true })
  phone!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  isDefaultShipping!: boolean;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  isDefaultBilling!: boolean;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;
}
