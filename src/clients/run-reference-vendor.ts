#!/usr/bin/env node
import { Command } from 'commander';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { readFileSync, writeFileSync } from 'node:fs';
import { demoAttestation } from '../trust/demo-attestation';
import { ReferenceVendor } from './reference-vendor';

/**
 * "The vendor's tests" of examples/vendor-ci.sh: registers the reference EPJ as a client of a sandbox
 * (`register`), then runs its day's work against Navet (`run`). A real vendor runs its own tests instead.
 */
const SCOPES = [
  'nhn:phr/mhd/read-documentreferences',
  'nhn:phr/mhd/read-document',
  'navet:pjd/provide-document',
  'nhn:kjernejournal/api',
  'e-helse:sfm.api/sfm.api2',
  'nhn:pps/provesvar-read',
  'navet:pps/submit-result',
];
const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const adminKey = (options: { adminKey?: string }) => options.adminKey ?? process.env.NAVET_ADMIN_KEY ?? '';

const program = new Command('run-reference-vendor');
program
  .command('register')
  .requiredOption('--url <navet>')
  .requiredOption('--sandbox <name>')
  .requiredOption('--client <id>')
  .requiredOption('--key-file <file>', 'where to write the private JWK')
  .option('--admin-key <key>')
  .action(async (o: { url: string; sandbox: string; client: string; keyFile: string; adminKey?: string }) => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `${o.client}-1`;
    writeFileSync(o.keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }), { mode: 0o600 });
    const response = await fetch(`${o.url}/api/sandboxes/${o.sandbox}/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminKey(o)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        clientId: o.client,
        name: 'Referanse-EPJ',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] },
        scopes: SCOPES,
        organization: { parent: '993467049', child: '874716782' },
        tenancy: 'single-tenant',
        dpop: true,
      }),
    });
    if (response.status !== 201 && response.status !== 409)
      throw new Error(`registering ${o.client} failed: ${response.status} ${await response.text()}`);
    process.stdout.write(`Client ${o.client} registered in ${o.sandbox}; private key in ${o.keyFile}\n`);
  });
program
  .command('run')
  .requiredOption('--url <navet>')
  .requiredOption('--sandbox <name>')
  .requiredOption('--client <id>')
  .requiredOption('--key-file <file>')
  .requiredOption('--profile <list>', 'profiles', list)
  .option('--admin-key <key>', 'to report what the screen showed to the session (or NAVET_ADMIN_KEY)')
  .action(
    async (o: {
      url: string;
      sandbox: string;
      client: string;
      keyFile: string;
      profile: string[];
      adminKey?: string;
    }) => {
      const session = process.env.NAVET_CONFORMANCE_SESSION;
      const vendor = new ReferenceVendor({
        navetUrl: o.url,
        sandbox: o.sandbox,
        clientId: o.client,
        privateJwk: JSON.parse(readFileSync(o.keyFile, 'utf8')) as JWK,
        attestation: demoAttestation(),
        report: async (challenge, values) => {
          if (!session) return;
          await fetch(`${o.url}/api/sandboxes/${o.sandbox}/conformance/sessions/${session}/observations`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${adminKey(o)}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ challenge, ...values }),
          });
        },
      });
      await vendor.run(o.profile);
      process.stdout.write(`The reference EPJ ran ${o.profile.join(', ')}\n`);
    },
  );
program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`run-reference-vendor: ${error instanceof Error ? error.message : JSON.stringify(error)}\n`);
  process.exit(1);
});
