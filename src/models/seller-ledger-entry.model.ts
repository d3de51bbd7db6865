import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { LEDGER_ENTRY_TYPES, type LedgerEntryType } from './enums';
import { Order } from './order.model';
import { OrderItem } from './order-item.model';
import { Dispute } from './dispute.model';
import { Refund } from './refund.model';
import { SellerPayout } from './seller-payout.model';
import { User } from './user.model';

/**
 * One movement of what a seller is owed (append-only, written by the money services in the
 * transaction of the event): a sale (+), its commission (−), a refund (−) and the commission
 * given back with it (+), a payout (−), a lost dispute (−). Signed decimal strings.
 */
export interface SellerLedgerEntryAttributes {
  id: string;
  sellerId: string;
  type: LedgerEntryType;
  amount: string;
  orderId: string | null;
  orderItemId: string | null;
  refundId: string | null;
  /** The lost dispute a `dispute` entry takes the seller's share back for. */
  disputeId: string | null;
  /** The payout that paid this entry (set when a payout claims it); for a payout entry, its payout. */
  payoutId: string | null;
  occurredAt: Date;
  createdAt: Date;
}

export type SellerLedgerEntryCreationAttributes = Optional<
  SellerLedgerEntryAttributes,
  'id' | 'orderId' | 'orderItemId' | 'refundId' | 'disputeId' | 'payoutId' | 'createdAt'
>;

@Table({
  tableName: 'seller_ledger_entries',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [
    { name: 'seller_ledger_entries_seller_id_occurred_at_idx', fields: ['seller_id', 'occurred_at'] },
    { name: 'seller_ledger_entries_unpaid_seller_id_idx', fields: ['seller_id'], where: { payout_id: null } },
    { name: 'seller_ledger_entries_payout_id_idx', fields: ['payout_id'] },
    { name: 'seller_ledger_entries_order_item_id_idx', fields: ['order_item_id'] },
    { name: 'seller_ledger_entries_sale_key', unique: true, fields: ['order_item_id', 'type'], where: { refund_id: null, dispute_id: null, type: { [Op.ne]: 'payout' } } },
    { name: 'seller_ledger_entries_dispute_key', unique: true, fields: ['dispute_id', 'order_item_id'], where: { dispute_id: { [Op.ne]: null } } },
    { name: 'seller_ledger_entries_refund_key', unique: true, fields: ['refund_id', 'order_item_id', 'type'], where: { refund_id: { [Op.ne]: null } } },
    { name: 'seller_ledger_entries_payout_key', unique: true, fields: ['payout_id'], where: { type: 'payout' } },
  ],
})
export class SellerLedgerEntry
  extends AppModel<SellerLedgerEntryAttributes, SellerLedgerEntryCreationAttributes>
  implements SellerLedgerEntryAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  sellerId!: string;

  @Column({ type: DataType.ENUM(...LEDGER_ENTRY_TYPES), allowNull: false })
  type!: LedgerEntryType;

  @Column({ type: DataType.DECIMAL(14, 2), allowNull: false })
  amount!: string;

  @ForeignKey(() => Order)
  @Column({ type: DataType.UUID, allowNull: true })
  orderId!: string | null;

  @ForeignKey(() => OrderItem)
  @Column({ type: DataType.UUID, allowNull: true })
  orderItemId!: string | null;

  @ForeignKey(() => Refund)
  @Column({ type: DataType.UUID, allowNull: true })
  refundId!: string | null;

  @ForeignKey(() => Dispute)
  @Column({ type: DataType.UUID, allowNull: true })
  disputeId!: string | null;

  @ForeignKey(() => SellerPayout)
  @Column({ type: DataType.UUID, allowNull: true })
  payoutId!: string | null;

  @Column({ type: DataType.DATE, allowNull: false })
  occurredAt!: Date;

  override createdAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'sellerId', as: 'seller', onDelete: 'RESTRICT' })
  seller?: User;
}
