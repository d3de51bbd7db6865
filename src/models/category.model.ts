import type { Optional } from 'sequelize';
import { BelongsTo, Column, DataType, ForeignKey, HasMany, Table } from 'sequelize-typescript';
import { AppModel, isUuid } from './app-model';
import { Product } from './product.model';

export interface CategoryAttributes {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  parentId: string | null;
  imageUrl: string | null;
  sortOrder: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type CategoryCreationAttributes = Optional<
  CategoryAttributes,
  'id' | 'sortOrder' | 'isActive' | 'createdAt' | 'updatedAt'
>;

@Table({
  tableName: 'categories',
  underscored: true,
  timestamps: true,
  indexes: [
    { name: 'categories_slug_key', unique: true, fields: ['slug'] },
    { name: 'categories_parent_id_idx', fields: ['parent_id'] },
  ],
})
export class Category extends AppModel<CategoryAttributes, CategoryCreationAttributes> implements CategoryAttributes {
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  name!: string;

  @Column({ type: DataType.STRING(120), allowNull: false })
  slug!: string;

  @Column({ type: DataType.TEXT, allowNull: true })
  description!: string | null;

  /** A category with children cannot be deleted (ON DELETE RESTRICT): the tree is never orphaned. */
  @ForeignKey(() => Category)
  @Column({ type: DataType.UUID, allowNull: true })
  parentId!: string | null;

  @Column({ type: DataType.STRING(500), allowNull: true })
  imageUrl!: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  sortOrder!: number;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: true })
  isActive!: boolean;

  override createdAt!: Date;
  override updatedAt!: Date;

  @BelongsTo(() => Category, { foreignKey: 'parentId', as: 'parent', onDelete: 'RESTRICT' })
  parent?: Category | null;

  @HasMany(() => Category, { foreignKey: 'parentId', as: 'children', onDelete: 'RESTRICT' })
  children?: Category[];

  @HasMany(() => Product, { foreignKey: 'categoryId', as: 'products', onDelete: 'SET NULL' })
  products?: Product[];

  static findBySlug(slug: string): Promise<Category | null> {
    return Category.findOne({ where: { slug } });
  }

  /** Looks a category up by id when the value is a UUID, else by slug (routes take either). */
  static findByIdOrSlug(idOrSlug: string): Promise<Category | null> {
    return isUuid(idOrSlug) ? Category.findByPk(idOrSlug) : Category.findBySlug(idOrSlug);
  }
}
