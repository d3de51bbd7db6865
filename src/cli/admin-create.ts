import { config } from '../platform/config';
import { getSequelize } from '../platform/db';
import { runPending } from '../platform/db/bootstrap';
import { User } from '../models';
import { sessionService } from '../modules/accounts';
import { hashPassword, passwordWeakness } from '../platform/utils/password';
import { parseArgs, runCommand, UsageError } from './cli';

// npm run admin:create -- --email E --password P --name N
// Creates the admin, or promotes an existing account of that email to an approved admin.
const { options } = parseArgs();

void runCommand('admin:create', async (sequelize) => {
  const email = typeof options.email === 'string' ? options.email.trim().toLowerCase() : '';
  const password = typeof options.password === 'string' ? options.password : '';
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || !name || !password) {
    throw new UsageError('usage: npm run admin:create -- --email E --password P --name N');
  }
  if (name.length < 2 || name.length > 100) throw new UsageError('--name must be 2 to 100 characters');
  const weakness = passwordWeakness(password);
  if (weakness) throw new UsageError(`--password ${weakness}`);

  await runPending(sequelize);
  const passwordHash = await hashPassword(password, config.bcryptRounds);
  const created = await getSequelize().transaction(async (transaction) => {
    const existing = await User.findOne({ where: { email }, transaction, lock: transaction.LOCK.UPDATE });
    if (existing) {
      // Reset links sent for the old password die with it.
      await existing.update(
        { role: 'admin', status: 'approved', name, password: passwordHash, passwordChangedAt: new Date(), passwordResetToken: null, passwordResetExpires: null },
        { transaction },
      );
      // The password changed: sessions opened with the old one end, as with any password change.
      await sessionService.revokeAllForUser(existing.id, 'password_change', { transaction });
      return false;
    }
    await User.create({ email, name, password: passwordHash, role: 'admin', status: 'approved', emailVerified: true }, { transaction });
    return true;
  });
  process.stdout.write(`${created ? 'Created' : 'Promoted'} admin ${email}\n`);
});
