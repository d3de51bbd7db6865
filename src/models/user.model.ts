import { Op, QueryTypes, type Optional } from 'sequelize';
import { Column, DataType, HasMany, HasOne, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { USER_ROLES, USER_STATUSES, type UserRole, type UserStatus } from './enums';
import { Order } from './order.model';
import { Product } from './product.model';
import { Review } from './review.model';
import { SellerProfile } from './seller-profile.model';
import { UserSession } from './user-session.model';

export interface UserAttributes {
  id: string;
  email: string;
  /** A hash made by src/platform/utils/password.ts (bcrypt), never the password itself. */
  password: string;
  name: string;
  role: UserRole;
  status: UserStatus;
  avatarUrl: string | null;
  emailVerified: boolean;
  /** sha256 hex of the token mailed to the user. */
  emailVerificationToken: string | null;
  emailVerificationExpires: Date | null;
  /** sha256 hex of the token mailed to the user. */
  passwordResetToken: string | null;
  passwordResetExpires: Date | null;
  passwordChangedAt: Date | null;
  lastLoginAt: Date | null;
  suspendedReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type UserCreationAttributes = Optional<
  UserAttributes,
  'id' | 'role' | 'status' | 'emailVerified' | 'createdAt' | 'updatedAt'
>;

const SECRET_ATTRIBUTES = [
  'password',
  'emailVerificationToken',
  'emailVerificationExpires',
  'passwordResetToken',
  'passwordResetExpires',
] as const;

export type PublicUserAttributes = Omit<UserAttributes, (typeof SECRET_ATTRIBUTES)[number]>;

/** The columns that may be shown to anyone allowed to see the user (for `attributes` of includes). */
export const USER_PUBLIC_ATTRIBUTES = [
  'id',
  'email',
  'name',
  'role',
  'status',
  'avatarUrl',
  'emailVerified',
  'passwordChangedAt',
  'lastLoginAt',
  'suspendedReason',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof PublicUserAttributes)[];

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

@Table({
  tableName: 'users',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'users_email_key', unique: true, fields: ['email'] },
    { name: 'users_role_status_idx', fields: ['role', 'status'] },
    // New customers and sellers of a period (the statistics overview).
    { name: 'users_role_created_at_idx', fields: ['role', 'created_at'] },
    {
      name: 'users_email_verification_token_idx',
      fields: ['email_verification_token'],
      where: { email_verification_token: { [Op.ne]: null } },
    },
    {
      name: 'users_password_reset_token_idx',
      fields: ['password_reset_token'],
      where: { password_reset_token: { [Op.ne]: null } },
    },
  ],
})
export class User extends AppModel<UserAttributes, UserCreationAttributes> implements UserAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  /** Stored trimmed and lowercased (the setter does it; a CHECK holds it in the database). */
  @Column({
    type: DataType.STRING(255),
    allowNull: false,
    set(this: User, value: string) {
      this.setDataValue('email', typeof value === 'string' ? normalizeEmail(value) : value);
    },
  })
  email!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  password!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  name!: string;

  @Column({ type: DataType.ENUM(...USER_ROLES), allowNull: false, defaultValue: 'customer' })
  role!: UserRole;

  @Column({ type: DataType.ENUM(...USER_STATUSES), allowNull: false, defaultValue: 'approved' })
  status!: UserStatus;

  @Column({ type: DataType.STRING(500), allowNull: true })
  avatarUrl!: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  emailVerified!: boolean;

  @Column({ type: DataType.STRING(64), allowNull: true })
  emailVerificationToken!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  emailVerificationExpires!: Date | null;

  @Column({ type: DataType.STRING(64), allowNull: true })
  passwordResetToken!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  passwordResetExpires!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  passwordChangedAt!: Date | null;

  @Column({ type: DataType.DATE, allowNull: true })
  lastLoginAt!: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  suspendedReason!: string | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @HasOne(() => SellerProfile, { foreignKey: 'userId', as: 'sellerProfile', onDelete: 'CASCADE' })
  sellerProfile?: SellerProfile;

  @HasMany(() => Product, { foreignKey: 'sellerId', as: 'products', onDelete: 'RESTRICT' })
  products?: Product[];

  @HasMany(() => Order, { foreignKey: 'userId', as: 'orders', onDelete: 'RESTRICT' })
  orders?: Order[];

  @HasMany(() => UserSession, { foreignKey: 'userId', as: 'sessions', onDelete: 'CASCADE' })
  sessions?: UserSession[];

  @HasMany(() => Review, { foreignKey: 'userId', as: 'reviews', onDelete: 'CASCADE' })
  reviews?: Review[];

  static findByEmail(email: string): Promise<User | null> {
    return User.findOne({ where: { email: normalizeEmail(email) } });
  }

  /**
   * The bcrypt cost most stored password hashes have (undefined without any user). One pass over
   * the table: callers keep the answer for a while.
   */
  static async mostCommonPasswordCost(): Promise<number | undefined> {
    const rows = await User.sequelize!.query<{ cost: number }>(
      `SELECT substring(password from 5 for 2)::int AS cost
         FROM users
        WHERE password ~ '^[$]2[aby][$][0-9]{2}[$]'
        GROUP BY 1
        ORDER BY count(*) DESC, 1 DESC
        LIMIT 1`,
      { type: QueryTypes.SELECT },
    );
    return rows[0]?.cost;
  }

  /** The user whose unexpired password reset token has this sha256 hex hash. */
  static findByValidPasswordResetToken(tokenHash: string): Promise<User | null> {
    return User.findOne({
      where: { passwordResetToken: tokenHash, passwordResetExpires: { [Op.gt]: new Date() } },
    });
  }

  /** The user whose unexpired email verification token has this sha256 hex hash. */
  static findByValidEmailVerificationToken(tokenHash: string): Promise<User | null> {
    return User.findOne({
      where: { emailVerificationToken: tokenHash, emailVerificationExpires: { [Op.gt]: new Date() } },
    });
  }

  isAdmin(): boolean {
    return this.role === 'admin';
  }

  isSeller(): boolean {
    return this.role === 'seller';
  }

  isApproved(): boolean {
    return this.status === 'approved';
  }

  override toJSON<T extends PublicUserAttributes = PublicUserAttributes>(): T {
    const json = super.toJSON() as Partial<UserAttributes>;
    for (const key of SECRET_ATTRIBUTES) delete json[key];
    return json as T;
  }
}
