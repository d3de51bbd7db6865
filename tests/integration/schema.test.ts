import { QueryTypes } from 'sequelize';
import { DataType, type Model, type ModelCtor } from 'sequelize-typescript';
import { createMigrator } from '../../src/platform/db/migrator';
import { models } from '../../src/models';
import { useTestDatabase } from '../support/database';

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
}

/** Columns typed with another table's enum (Sequelize names an enum type after its own table and column). */
const SHARED_ENUMS: Record<string, string> = {
  'order_status_days.status': 'enum_orders_status',
  'order_status_deltas.status': 'enum_orders_status',
};

/** The PostgreSQL type a Sequelize attribute type maps to, in information_schema's words. */
function expectedType(type: unknown, table: string, column: string): string {
  const t = type as { key: string; options?: { length?: number; precision?: number; scale?: number }; _length?: number };
  switch (t.key) {
    case 'UUID':
      return 'uuid';
    case 'STRING':
      return `character varying(${t.options?.length ?? t._length ?? 255})`;
    case 'CHAR':
      return `character(${t.options?.length ?? t._length ?? 255})`;
    case 'TEXT':
      return 'text';
    case 'INTEGER':
      return 'integer';
    case 'SMALLINT':
      return 'smallint';
    case 'BIGINT':
      return 'bigint';
    case 'BOOLEAN':
      return 'boolean';
    case 'DATE':
      return 'timestamp with time zone';
    case 'DATEONLY':
      return 'date';
    case 'DECIMAL':
      return `numeric(${t.options?.precision},${t.options?.scale})`;
    case 'JSONB':
      return 'jsonb';
    case 'JSON':
      return 'json';
    case 'TSVECTOR':
      return 'tsvector';
    case 'ENUM':
      return SHARED_ENUMS[`${table}.${column}`] ?? `enum_${table}_${column}`;
    case 'ARRAY':
      return 'ARRAY';
    default:
      return `unknown ${t.key}`;
  }
}

function actualType(row: ColumnRow): string {
  switch (row.data_type) {
    case 'character varying':
      return `character varying(${row.character_maximum_length})`;
    case 'character':
      return `character(${row.character_maximum_length})`;
    case 'numeric':
      return `numeric(${row.numeric_precision},${row.numeric_scale})`;
    case 'USER-DEFINED':
      return row.udt_name;
    default:
      return row.data_type;
  }
}

describe('database schema', () => {
  const db = useTestDatabase();

  it('has exactly the columns, types and nullability of the models', async () => {
    const rows = await db.current.sequelize.query<ColumnRow>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, character_maximum_length, numeric_precision, numeric_scale
         FROM information_schema.columns WHERE table_schema = 'public'`,
      { type: QueryTypes.SELECT },
    );
    const actual = new Map<string, string>();
    for (const row of rows) actual.set(`${row.table_name}.${row.column_name}`, `${actualType(row)} ${row.is_nullable === 'YES' ? 'null' : 'not null'}`);

    const expected = new Map<string, string>();
    for (const model of models as ModelCtor<Model>[]) {
      const table = model.getTableName() as string;
      for (const attribute of Object.values(model.getAttributes())) {
        const column = attribute.field ?? String((attribute as { fieldName?: string }).fieldName);
        const nullable = attribute.allowNull === false || attribute.primaryKey ? 'not null' : 'null';
        expected.set(`${table}.${column}`, `${expectedType(attribute.type, table, column)} ${nullable}`);
      }
    }
    const modelTables = new Set([...expected.keys()].map((key) => key.split('.')[0]));
    const actualOfModels = new Map([...actual].filter(([key]) => modelTables.has(key.split('.')[0])));
    expect(Object.fromEntries([...actualOfModels].sort())).toEqual(Object.fromEntries([...expected].sort()));
  });

  it('has exactly the indexes the models declare (and no table without a model)', async () => {
    const indexRows = await db.current.sequelize.query<{ tablename: string; indexname: string }>(
      "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'",
      { type: QueryTypes.SELECT },
    );
    const tables = await db.current.sequelize.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", {
      type: QueryTypes.SELECT,
    });
    const modelTables = new Set((models as ModelCtor<Model>[]).map((model) => model.getTableName() as string));
    const bookkeeping = new Set(['schema_migrations', 'seed_runs']);
    expect(tables.map((row) => row.tablename).filter((name) => !modelTables.has(name) && !bookkeeping.has(name))).toEqual([]);

    const actual = indexRows
      .filter((row) => modelTables.has(row.tablename))
      .map((row) => `${row.tablename}.${row.indexname}`)
      .sort();
    const declared = (models as ModelCtor<Model>[])
      .flatMap((model) => ((model.options.indexes ?? []) as Array<{ name?: string }>).map((index) => `${model.getTableName() as string}.${index.name}`))
      .sort();
    expect(actual).toEqual(declared);
  });

  it('keeps the generated search vector weighted over name, descriptions and tags', async () => {
    const [row] = await db.current.sequelize.query<{ generation_expression: string }>(
      "SELECT generation_expression FROM information_schema.columns WHERE table_name = 'products' AND column_name = 'search_vector'",
      { type: QueryTypes.SELECT },
    );
    expect(row.generation_expression).toMatch(/setweight/);
    expect(DataType.TSVECTOR).toBeDefined();
  });

  it('migrates down to zero and up again', async () => {
    const migrator = createMigrator(db.current.sequelize);
    const applied = (await migrator.executed()).map((migration) => migration.name);
    expect(applied.length).toBeGreaterThan(0);
    // Source and build must record the same names, or `npm start` would re-run what `npm run migrate` applied.
    expect(applied.filter((name) => /\.(ts|js)$/.test(name))).toEqual([]);

    await migrator.down({ to: 0 });
    const left = await db.current.sequelize.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations')",
      { type: QueryTypes.SELECT },
    );
    expect(left).toEqual([]);
    const types = await db.current.sequelize.query<{ typname: string }>(
      "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'",
      { type: QueryTypes.SELECT },
    );
    expect(types).toEqual([]);

    await migrator.up();
    expect((await migrator.executed()).map((migration) => migration.name)).toEqual(applied);
    const [{ count }] = await db.current.sequelize.query<{ count: string }>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", {
      type: QueryTypes.SELECT,
    });
    expect(Number(count)).toBe(models.length + 1);
  });
});
