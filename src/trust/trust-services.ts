import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { Clients } from './clients';
import { DpopNonces } from './dpop';
import { SigningKeys } from './signing-keys';
import { TrustState } from './trust-state';

/** The trust framework's parts that keep state in the database. */
export interface TrustServices {
  clients: Clients;
  keys: SigningKeys;
  state: TrustState;
  nonces: DpopNonces;
}

export function createTrustServices(db: Kysely<Database>): TrustServices {
  const state = new TrustState(db);
  return { clients: new Clients(db), keys: new SigningKeys(db), state, nonces: new DpopNonces(state) };
}
