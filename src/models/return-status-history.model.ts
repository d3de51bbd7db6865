import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { HISTORY_ACTOR_ROLES, type HistoryActorRole, RETURN_STATUSES, type ReturnStatus } from './enums';
import { Return } from './return.model';
import { User } from './user.model';

/** One row per return status move, appended in the same transaction as the move. */
export interface ReturnStatusHistoryAttributes {
  id: string;
  returnId: string;
  /** Null for the first row (return asked). */
  fromStatus: ReturnStatus | null;
  toStatus: ReturnStatus;
  note: string | null;
  actorId: string | null;
  actorRole: HistoryActorRole;
  createdAt: Date;
}

export type ReturnStatusHistoryCreationAttributes = Optional<ReturnStatusHistoryAttributes, 'id' | 'createdAt'>;

@Table({
  tableName: 'return_status_history',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [{ name: 'return_status_history_return_id_created_at_idx', fields: ['return_id', 'created_at'] }],
})
export class ReturnStatusHistory extends AppModel<ReturnStatusHistoryAttributes, ReturnStatusHistoryCreationAttributes> implements ReturnStatusHistoryAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => Return)
  @Column({ type: DataType.UUID, allowNull: false })
  returnId!: string;

  @Column({ type: DataType.ENUM(...RETURN_STATUSES), allowNull: true })
  fromStatus!: ReturnStatus | null;

  @Column({ type: DataType.ENUM(...RETURN_STATUSES), allowNull: false })
  toStatus!: ReturnStatus;

  @Column({ type: DataType.TEXT, allowNull: true })
  note!: string | null;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  actorId!: string | null;

  @Column({ type: DataType.ENUM(...HISTORY_ACTOR_ROLES), allowNull: false })
  actorRole!: HistoryActorRole;

  override createdAt!: Date;

  @BelongsTo(() => Return, { foreignKey: 'returnId', as: 'return', onDelete: 'CASCADE' })
  return?: Return;
}
