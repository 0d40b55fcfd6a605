import express, { type Express } from 'express';
import type { Config } from '../config';
import type { Sandboxes } from '../sandbox/sandboxes';
import type { BackgroundTasks } from '../store/background-tasks';
import { sandboxUrl } from '../sandbox/service-urls';
import { importStaff } from '../sandbox/staff-import';
import { rehearsalApi } from './rehearsal/rehearsal-api';
import { adminSandbox, scenarioListApi, scenarioRunApi } from './scenario-api';

/** Mounts the scenario, staff-import and rehearsal APIs (before `/api/sandboxes`, whose router answers unknown paths). */
export function mountScenarioApis(
  app: Express,
  config: Config,
  sandboxes: Sandboxes,
  tasks: BackgroundTasks,
  readOnlyTypes: ReadonlySet<string>,
): void {
  app.use('/api/scenarios', scenarioListApi(config.operatorKey));
  app.post(
    '/api/sandboxes/:name/staff',
    express.text({ type: ['text/csv', 'text/plain'], limit: config.maxBody }),
    async (req, res) => {
      const sandbox = await adminSandbox(sandboxes, req, res);
      const context = {
        sandbox: sandbox.name,
        store: sandboxes.store,
        now: () => sandbox.clock.now().toISOString(),
        baseUrl: sandboxUrl(config.baseUrl, sandbox.name, 'fhir'),
        readOnlyTypes,
      };
      res.status(201).json(await importStaff(context, typeof req.body === 'string' ? req.body : ''));
    },
  );
  app.use(
    '/api/sandboxes/:name/rehearsals',
    rehearsalApi(sandboxes, tasks, { baseUrl: config.baseUrl, maxBody: config.maxBody }),
  );
  app.use(
    '/api/sandboxes/:name/scenario-runs',
    scenarioRunApi(sandboxes, tasks, { baseUrl: config.baseUrl, maxBody: config.maxBody }),
  );
}
