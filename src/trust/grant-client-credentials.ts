import { issueAccessToken } from './access-token';
import { detailsContent, resolveScopesAndAudience, type GrantHandler } from './token-request';

/** client_credentials: system to system; the attestation (if any) comes from the client assertion. */
export const clientCredentialsGrant: GrantHandler = async (request) => {
  const { client } = request.authenticated;
  const { scopes, audience } = resolveScopesAndAudience(client, request.form.scope, request.form.resource);
  const { token } = await issueAccessToken(request.services.keys, request.sandbox, request.issuer, request.now, {
    client,
    scopes,
    audience,
    jkt: request.jkt,
    ...detailsContent(client, request.details),
    lifetimeSeconds: client.accessTokenLifetimeSeconds,
  });
  return {
    access_token: token,
    token_type: request.jkt ? 'DPoP' : 'Bearer',
    expires_in: client.accessTokenLifetimeSeconds,
    scope: scopes.join(' '),
  };
};
