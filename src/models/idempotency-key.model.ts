import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/**
 * An Idempotency-Key a user sent, unique per user: the first request locks it, later ones with the
 * same body replay the stored response, with another body they are refused.
 */
export interface IdempotencyKeyAttributes {
  id: string;
  userId: string;
  key: string;
  method: string;
  path: string;
  /** sha256 hex of the request body (canonical JSON). */
  requestHash: string;
  responseStatus: number | null;
  responseBody: unknown;
  /** The resource the request created (an order id). */
  resourceId: string | null;
  lockedAt: Date | null;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type IdempotencyKeyCreationAttributes = Optional<
  IdempotencyKeyAttributes,
  'id' | 'responseBody' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'idempotency_keys',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'idempotency_keys_user_id_key_key', unique: true, fields: ['user_id', 'key'] },
    { name: 'idempotency_keys_expires_at_idx', fields: ['expires_at'] },
  ],
})
export class IdempotencyKey
  extends AppModel<IdempotencyKeyAttributes, IdempotencyKeyCreationAttributes>
  implements IdempotencyKeyAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  key!: string;

  @Column({ type: DataType.STRING(10), allowNull: false })
  method!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  path!: string;

  @Column({ type: DataType.STRING(64), allowNull: false })
  requestHash!: string;

  @Column({ type: DataType.INTEGER, allowNull: true })
  responseStatus!: number | null;

  @Column({ type: DataType.JSONB, allowNull: true })
  responseBody!: unknown;

  @Column({ type: DataType.UUID, allowNull: true })
  resourceId!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  lockedAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: false })
  expiresAt!: Date;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;

  static findByUserAndKey(userId: string, key: string): Promise<IdempotencyKey | null> {
    return IdempotencyKey.findOne({ where: { userId, key } });
  }
}
