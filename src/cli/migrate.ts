import { runPending } from '../platform/db/bootstrap';
import { createMigrator } from '../platform/db/migrator';
import { parseArgs, runCommand } from './cli';

// npm run migrate            apply every pending migration
// npm run migrate:undo       revert the last one (--to 0 reverts all)
const { positional, options } = parseArgs();
const direction = positional[0] === 'down' ? 'down' : 'up';

void runCommand('migrate', async (sequelize) => {
  if (direction === 'up') {
    const applied = await runPending(sequelize);
    process.stdout.write(applied.length > 0 ? `Applied: ${applied.join(', ')}\n` : 'Nothing to migrate: the schema is current.\n');
    return;
  }
  const migrator = createMigrator(sequelize);
  const reverted = options.to === '0' ? await migrator.down({ to: 0 }) : await migrator.down();
  process.stdout.write(reverted.length > 0 ? `Reverted: ${reverted.map((m) => m.name).join(', ')}\n` : 'Nothing to revert.\n');
});
