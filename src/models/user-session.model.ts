import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/** A signed-in device: access tokens name it, its refresh token is stored only as a hash and rotated. */
export interface UserSessionAttributes {
  id: string;
  userId: string;
  /** sha256 hex of the current refresh token. */
  refreshTokenHash: string;
  /** sha256 hex of the token the last rotation replaced: presenting it again proves a copy was used. */
  previousRefreshTokenHash: string | null;
  userAgent: string | null;
  ipAddress: string | null;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** logout, password_change, password_reset, suspended, token_reuse… */
  revokedReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type UserSessionCreationAttributes = Optional<UserSessionAttributes, 'id' | 'previousRefreshTokenHash' | 'createdAt' | 'updatedAt'>;

export type PublicUserSessionAttributes = Omit<UserSessionAttributes, 'refreshTokenHash' | 'previousRefreshTokenHash'>;

@Table({
  tableName: 'user_sessions',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'user_sessions_refresh_token_hash_key', unique: true, fields: ['refresh_token_hash'] },
    { name: 'user_sessions_user_id_idx', fields: ['user_id'] },
  ],
})
export class UserSession
  extends AppModel<UserSessionAttributes, UserSessionCreationAttributes>
  implements UserSessionAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  userId!: string;

  @Column({ type: DataType.STRING(64), allowNull: false })
  refreshTokenHash!: string;

  @Column({ type: DataType.STRING(64), allowNull: true })
  previousRefreshTokenHash!: string | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  userAgent!: string | null;

  @Column({ type: DataType.STRING(64), allowNull: true })
  ipAddress!: string | null;

  @Column({ type: DataType.DATE, allowNull: false })
  expiresAt!: Date;

  @Column({ type: DataType.DATE, allowNull: true })
  lastUsedAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  revokedAt!: Date | null;

  @Column({ type: DataType.STRING(50), allowNull: true })
  revokedReason!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'userId', as: 'user', onDelete: 'CASCADE' })
  user?: User;

  /** The session holding this refresh token hash, whatever its state (the caller checks isActive). */
  static findByRefreshTokenHash(refreshTokenHash: string): Promise<UserSession | null> {
    return UserSession.findOne({ where: { refreshTokenHash } });
  }

  /** Neither revoked nor expired. */
  isActive(now: Date = new Date()): boolean {
    return this.revokedAt === null && this.expiresAt.getTime() > now.getTime();
  }

  override toJSON<T extends PublicUserSessionAttributes = PublicUserSessionAttributes>(): T {
    const json = super.toJSON() as Partial<UserSessionAttributes>;
    delete json.refreshTokenHash;
    delete json.previousRefreshTokenHash;
    return json as T;
  }
}
