// A local OpenID Connect provider for the tests (tests/test_directory_oidc.py), built on
// panva's certified oidc-provider. Everything a test may change is in the accounts file,
// read again at every look-up: a person's password, claims (groups, department) and
// whether they still exist (removed, or "disabled": true, as a leaver is).
//
//   OIDC_ACCOUNTS=accounts.json OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... \
//   OIDC_REDIRECT_URIS="http://127.0.0.1:8080/oauth-authorized/oidc" node provider.mjs [port]
//
// Prints "listening http://127.0.0.1:<port>" once it answers (port 0: a free one).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is required`);
  return process.env[name];
};
const accountsFile = env('OIDC_ACCOUNTS');
const accounts = () => JSON.parse(readFileSync(accountsFile, 'utf8'));
const account = (id) => {
  const found = Object.hasOwn(accounts(), id) ? accounts()[id] : undefined;
  return found && !found.disabled ? found : undefined;
};
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const loginPage = (uid, message) => `<!doctype html><meta charset="utf-8"><title>Test provider</title>
<h1>Test provider sign-in</h1>${message ? `<p class="error">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<input name="login" autofocus><input name="password" type="password"><button>Sign in</button>
</form>`;

async function formBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(details.uid));
    return;
  }
  const { login = '', password = '' } = await formBody(req);
  const person = account(login);
  if (!person || person.password !== password) {
    res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(details.uid, 'Wrong user name or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: login } },
    { mergeWithLastSubmission: false });
}

const server = createServer();
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: env('OIDC_REDIRECT_URIS').split(/\s+/),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }],
    jwks: { keys: [{ ...key.export({ format: 'jwk' }), use: 'sig', kid: 'test' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email'],
      groups: ['groups', 'department'],
    },
    // ID tokens carry the claims too, as most providers send them.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, details) => `/interaction/${details.uid}` },
    async findAccount(_ctx, sub) {
      const person = account(sub);
      if (!person) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...person.claims }) };
    },
    // A first-party client: no consent page, every requested scope granted.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ')
        : 'openid');
      await grant.save();
      return grant;
    },
    // As Keycloak and Azure AD do: a refresh token with every code exchange.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: 300, IdToken: 300, RefreshToken: 3600, Session: 3600, Grant: 3600,
      Interaction: 600, AuthorizationCode: 60 },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((error) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(error.message || error));
      });
    } else {
      handle(req, res);
    }
  });
  process.stdout.write(`listening ${issuer}\n`);
});
