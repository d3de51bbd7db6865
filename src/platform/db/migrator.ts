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
const projectRoot = path.resolve(__dirname, '..', '..', '..');

const storageTable: Record<MigrationKind, string> = {
  migrations: 'schema_migrations',
  seeders: 'seed_runs',
};

export function createMigrator(sequelize: Sequelize, kind: MigrationKind = 'migrations'): Umzug<MigrationContext> {
  return new Umzug<MigrationContext>({
    migrations: {
      glob: [`*${sourceExtension}`, { cwd: path.join(projectRoot, kind), ignore: ['*.d.ts'] }],
      // Recorded without the extension: a database migrated from source (tsx) and then served
      // from the build (dist, .js) must see the same names, or it would apply them again.
      resolve: ({ name, path: file, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(file!) as { up: MigrationFn; down?: MigrationFn };
        const bare = name.replace(/\.(ts|js)$/, '');
        return {
          name: bare,
          up: () => migration.up({ name: bare, context }),
          down: () => (migration.down ? migration.down({ name: bare, context }) : Promise.resolve()),
        };
      },
    },
    context: { queryInterface: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: storageTable[kind] }),
    logger: undefined,
  });
}
