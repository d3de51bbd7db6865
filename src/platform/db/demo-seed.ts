import { getSequelize } from './index';
import { runPending } from './bootstrap';

/** Seeds the demo data once per database: the seeders' own table remembers that it ran. */
export async function seedDemoDataOnFirstStart(): Promise<void> {
  await runPending(getSequelize(), 'seeders');
}
