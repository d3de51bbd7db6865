import path from 'node:path';
import { SequelizeStorage, Umzug } from 'umzug';
import type { QueryInterface, Sequelize } from 'sequelize';

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
}

export type MigrationFn = (params: { name: string; context: MigrationContext }) => Promise<void>;

export type MigrationKind = 'migrations' | 'seeders';

/** Source (.ts under tsx and jest) or compiled (.js under dist): run the files of the same kind as this one. */
const sourceExtension = path.extname(__filename);
const projectRoot = path.resolve(__dirname, '..', '..');

const storageTable: Record<MigrationKind, string> = {
  migrations: 'schema_migrations',
  seeders: 'seed_runs',
};

export function createMigrator(sequelize: Sequelize, kind: MigrationKind = 'migrations'): Umzug<MigrationContext> {
  return new Umzug<MigrationContext>({
    migrations: {
      glob: [`*${sourceExtension}`, { cwd: path.join(projectRoot, kind), ignore: ['*.d.ts'] }],
    },
    context: { queryInterface: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: storageTable[kind] }),
    logger: undefined,
  });
}
