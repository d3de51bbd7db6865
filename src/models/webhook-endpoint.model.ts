import { Op, type Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { User } from './user.model';

/** An integration's URL that events are posted to, signed with its secret. */
export interface WebhookEndpointAttributes {
  id: string;
  /** Who registered it (an admin, or the seller). */
  ownerId: string;
  /** A seller's endpoint gets events of that seller only; null: an admin's, any event. */
  sellerId: string | null;
  url: string;
  events: string[];
  description: string | null;
  /** `whsec_…`: shown once to its owner; never in an answer or a log otherwise. */
  secret: string;
  active: boolean;
  /** The first failed delivery since the last success. */
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointCreationAttributes = Optional<WebhookEndpointAttributes, 'id' | 'sellerId' | 'description' | 'active' | 'failingSince' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'webhook_endpoints',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'webhook_endpoints_owner_id_created_at_idx', fields: ['owner_id', 'created_at'] },
    { name: 'webhook_endpoints_active_seller_id_idx', fields: ['seller_id'], where: { active: { [Op.eq]: true } } },
  ],
})
export class WebhookEndpoint extends AppModel<WebhookEndpointAttributes, WebhookEndpointCreationAttributes> implements WebhookEndpointAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: false })
  ownerId!: string;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  sellerId!: string | null;

  @Column({ type: DataType.STRING(2000), allowNull: false })
  url!: string;

  @Column({ type: DataType.ARRAY(DataType.STRING(50)), allowNull: false })
  events!: string[];

  @Column({ type: DataType.STRING(500), allowNull: true })
  description!: string | null;

  @Column({ type: DataType.STRING(100), allowNull: false })
  secret!: string;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: true })
  active!: boolean;

  @Column({ type: DataType.DATE, allowNull: true })
  failingSince!: Date | null;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'ownerId', as: 'owner', onDelete: 'CASCADE' })
  owner?: User;

  override toJSON<T extends WebhookEndpointAttributes>(): T {
    const json = super.toJSON() as Partial<WebhookEndpointAttributes>;
    delete json.secret;
    return json as T;
  }
}
