import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';
import { UPLOAD_PROVIDERS, type UploadProvider } from './enums';
import { User } from './user.model';

export interface UploadAttributes {
  id: string;
  publicId: string;
  url: string;
  provider: UploadProvider;
  /** Null once the uploader is deleted; the file stays. */
  uploaderId: string | null;
  bytes: number;
  width: number | null;
  height: number | null;
  /** jpeg, png, webp, gif */
  format: string;
  createdAt: Date;
  updatedAt: Date;
}

export type UploadCreationAttributes = Optional<UploadAttributes, 'id' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'uploads',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'uploads_public_id_key', unique: true, fields: ['public_id'] },
    { name: 'uploads_uploader_id_created_at_idx', fields: ['uploader_id', 'created_at'] },
  ],
})
export class Upload extends AppModel<UploadAttributes, UploadCreationAttributes> implements UploadAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(255), allowNull: false })
  publicId!: string;

  @Column({ type: DataType.STRING(1000), allowNull: false })
  url!: string;

  @Column({ type: DataType.ENUM(...UPLOAD_PROVIDERS), allowNull: false })
  provider!: UploadProvider;

  @ForeignKey(() => User)
  @Column({ type: DataType.UUID, allowNull: true })
  uploaderId!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false })
  bytes!: number;

  @Column({ type: DataType.INTEGER, allowNull: true })
  width!: number | null;

  @Column({ type: DataType.INTEGER, allowNull: true })
  height!: number | null;

  @Column({ type: DataType.STRING(20), allowNull: false })
  format!: string;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => User, { foreignKey: 'uploaderId', as: 'uploader', onDelete: 'SET NULL' })
  uploader?: User | null;

  static findByPublicId(publicId: string): Promise<Upload | null> {
    return Upload.findOne({ where: { publicId } });
  }
}
