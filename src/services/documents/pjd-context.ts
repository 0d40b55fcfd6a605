import type { ResourceStore } from '../../store/resource-store';
import type { PjdSettingsStore } from './pjd-settings';

/** What PJD's facades need for one request: the store, the sandbox's PJD settings and its PJD base URL. */
export interface PjdContext {
  store: ResourceStore;
  settings: PjdSettingsStore;
  pjdBase: string;
}
