import { Column, DataType, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';

/** The sales of one UTC day (by payment time) and its refunds (by refund time), kept by the ledger service with each payment and refund. */
export interface SalesDayAttributes {
  /** YYYY-MM-DD, UTC. */
  day: string;
  orders: number;
  /** Money: decimal strings. */
  amountPaid: string;
  tax: string;
  /** Shipping credited to sellers. */
  shipping: string;
  /** Discounts borne by the platform and by sellers. */
  platformDiscount: string;
  sellerDiscount: string;
  /** The commission of the day's sales as it stands (refunds made since give some back). */
  commission: string;
  /** The succeeded refunds made this day (by their transaction's time; not those of surplus payments), whichever day their orders were paid. */
  refunds: string;
  updatedAt: Date;
}

@Table({ tableName: 'sales_days', underscored: true, timestamps: true, createdAt: false })
export class SalesDay extends AppModel<SalesDayAttributes, SalesDayAttributes> implements SalesDayAttributes {
  @Column({ type: DataType.DATEONLY, primaryKey: true })
  day!: string;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  orders!: number;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  amountPaid!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  tax!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  shipping!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  platformDiscount!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  sellerDiscount!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  commission!: string;

  @Column({ type: DataType.DECIMAL(16, 2), allowNull: false, defaultValue: '0.00' })
  refunds!: string;

  override updatedAt!: Date;
}
