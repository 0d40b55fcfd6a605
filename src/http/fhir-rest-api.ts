import { jsonBody } from './json-body';
import express, { type Request, type Response, Router } from 'express';
import { assertJsonAcceptable, FHIR_JSON, preferences, sendFhir } from './fhir-json';
import { etagOf } from '../fhir/bundles';
import { capabilityStatement } from '../fhir/capability-statement';
import {
  createResource,
  deleteResource,
  type FhirContext,
  historyOf,
  type InteractionResult,
  readResource,
  searchResources,
  updateResource,
  vreadResource,
} from '../fhir/fhir-operations';
import { FhirError, informationOutcome } from '../fhir/operation-outcome';
import { toQueryParams } from '../fhir/search-request';
import { processBundle } from '../fhir/transaction';
import type { FhirResource } from '../fhir/types';

/**
 * The FHIR REST API of a sandbox (`services.fhir`): an admin surface for seeding and inspecting data.
 * `contextOf` gives the sandbox's FhirContext (set up by the sandbox middleware before this router).
 */
const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir', 'application/*+json'];

function requireJsonBody(req: Request): void {
  if (!req.is(JSON_TYPES)) {
    throw new FhirError(415, [
      {
        severity: 'error',
        code: 'not-supported',
        navetCode: 'NAVET-CONTENT-TYPE',
        text: `Send the resource as ${FHIR_JSON}; got Content-Type ${req.headers['content-type'] ?? '(none)'}`,
      },
    ]);
  }
}

function setResourceHeaders(res: Response, baseUrl: string, resource: FhirResource, withLocation: boolean): void {
  if (!resource.meta?.versionId) return;
  res.setHeader('ETag', etagOf(resource));
  if (resource.meta.lastUpdated) res.setHeader('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
  if (withLocation)
    res.setHeader('Location', `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`);
}

/** Answers a write as Prefer asks: the resource (default), nothing, or an OperationOutcome. */
function sendWriteResult(req: Request, res: Response, context: FhirContext, result: InteractionResult): void {
  if (result.resource)
    setResourceHeaders(res, context.baseUrl, result.resource, result.status === 201 || req.method !== 'GET');
  const prefer = preferences(req).return;
  if (result.status === 204 || prefer === 'minimal' || !result.resource) {
    res.status(result.status === 204 ? 204 : result.status).end();
    return;
  }
  if (prefer === 'OperationOutcome') {
    const verb = result.status === 201 ? 'Created' : 'Updated';
    sendFhir(
      req,
      res,
      result.status,
      informationOutcome(
        `${verb} ${result.resource.resourceType}/${result.resource.id} version ${result.resource.meta?.versionId}`,
      ),
    );
    return;
  }
  sendFhir(req, res, result.status, result.resource);
}

export function fhirRestApi(contextOf: (res: Response) => FhirContext, maxBody: string): Router {
  const router = Router();
  const json = jsonBody({ limit: maxBody, type: JSON_TYPES });
  const form = express.urlencoded({ limit: maxBody, extended: false });

  router.use((req, _res, next) => {
    assertJsonAcceptable(req);
    next();
  });

  router.get('/metadata', (req, res) => {
    const context = contextOf(res);
    sendFhir(req, res, 200, capabilityStatement(context.baseUrl, context.readOnlyTypes ?? new Set()));
  });

  router.post('/', json, async (req, res) => {
    requireJsonBody(req);
    const context = contextOf(res);
    sendFhir(req, res, 200, await processBundle(context, req.body, preferences(req).return === 'minimal'));
  });

  router.get('/_history', async (req, res) => {
    sendFhir(req, res, 200, await historyOf(contextOf(res), toQueryParams(req.query)));
  });

  router.get('/:type', async (req, res) => {
    sendFhir(
      req,
      res,
      200,
      await searchResources(contextOf(res), req.params.type, toQueryParams(req.query), preferences(req).lenient),
    );
  });

  router.post('/:type/_search', form, async (req, res) => {
    if (
      req.headers['content-length'] &&
      req.headers['content-length'] !== '0' &&
      !req.is('application/x-www-form-urlencoded')
    ) {
      throw new FhirError(415, [
        {
          severity: 'error',
          code: 'not-supported',
          navetCode: 'NAVET-CONTENT-TYPE',
          text: 'POST _search takes application/x-www-form-urlencoded parameters',
        },
      ]);
    }
    const params = [...toQueryParams(req.query), ...toQueryParams((req.body ?? {}) as Record<string, unknown>)];
    sendFhir(req, res, 200, await searchResources(contextOf(res), req.params.type, params, preferences(req).lenient));
  });

  router.post('/:type', json, async (req, res) => {
    requireJsonBody(req);
    const ifNoneExist = req.headers['if-none-exist'];
    const condition = typeof ifNoneExist === 'string' ? [...new URLSearchParams(ifNoneExist).entries()] : undefined;
    const context = contextOf(res);
    sendWriteResult(req, res, context, await createResource(context, req.params.type, req.body, condition));
  });

  router.get('/:type/_history', async (req, res) => {
    sendFhir(req, res, 200, await historyOf(contextOf(res), toQueryParams(req.query), req.params.type));
  });

  router.get('/:type/:id', async (req, res) => {
    const context = contextOf(res);
    const resource = await readResource(context, req.params.type, req.params.id);
    setResourceHeaders(res, context.baseUrl, resource, false);
    sendFhir(req, res, 200, resource);
  });

  router.put('/:type/:id', json, async (req, res) => {
    requireJsonBody(req);
    const context = contextOf(res);
    const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
    sendWriteResult(
      req,
      res,
      context,
      await updateResource(context, req.params.type, req.params.id, req.body, ifMatch),
    );
  });

  router.delete('/:type/:id', async (req, res) => {
    const context = contextOf(res);
    await deleteResource(context, req.params.type, req.params.id);
    res.status(204).end();
  });

  router.get('/:type/:id/_history', async (req, res) => {
    sendFhir(req, res, 200, await historyOf(contextOf(res), toQueryParams(req.query), req.params.type, req.params.id));
  });

  router.get('/:type/:id/_history/:versionId', async (req, res) => {
    const context = contextOf(res);
    const resource = await vreadResource(context, req.params.type, req.params.id, req.params.versionId);
    setResourceHeaders(res, context.baseUrl, resource, false);
    sendFhir(req, res, 200, resource);
  });

  router.all('/{*rest}', () => {
    throw new FhirError(405, [
      {
        severity: 'error',
        code: 'not-supported',
        navetCode: 'NAVET-INTERACTION-NOT-SUPPORTED',
        text: 'This interaction is not supported; see GET metadata for what the FHIR API offers',
      },
    ]);
  });

  return router;
}
