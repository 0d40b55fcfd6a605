import type { Express } from 'express';
import type { Config } from '../config';
import type { Sandboxes } from '../sandbox/sandboxes';
import { scenarioListApi, scenarioRunApi, ScenarioRuns } from './scenario-api';

/** Mounts the scenario and rehearsal APIs (before `/api/sandboxes`, whose router answers unknown paths). */
export function mountScenarioApis(app: Express, config: Config, sandboxes: Sandboxes): void {
  app.use('/api/scenarios', scenarioListApi(config.operatorKey));
  app.use('/api/sandboxes/:name/scenario-runs', scenarioRunApi(sandboxes, new ScenarioRuns(), { baseUrl: config.baseUrl, maxBody: config.maxBody }));
}
