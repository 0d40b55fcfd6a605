import { openDatabase } from '../src/store/database';

/** Migrates a shared PostgreSQL database once, before the test workers start. */
export default async function globalSetup(): Promise<void> {
  if (!process.env.DATABASE_URL) return;
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: '' });
  await database.close();
}
