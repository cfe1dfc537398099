// A real OpenID provider (the `oidc-provider` package) for the social-login tests.
//
// Listens on a free 127.0.0.1 port and prints one JSON line to stdout: {"issuer": ..., "port": ...}.
// Configured by the environment:
//   OIDC_CLIENTS  JSON list of clients: [{"client_id", "client_secret", "redirect_uris": [...]}]
//   OIDC_RESOURCE the audience of its access tokens (JWTs, through the resourceIndicators feature)
// Its test accounts: any username of lowercase letters, digits and "-" (password "correct horse"), with the
// address <username>@example.com; the provider says it verified the address unless the name begins with
// "unverified", and says it checked a second factor (amr ["pwd", "otp", "mfa"], acr "mfa") when it begins with "mfa".
// Its login and consent pages are two small forms a browser (or an HTTP client) fills in.
import http from 'node:http';
import Provider from 'oidc-provider';

const PASSWORD = 'correct horse';
const ACCOUNT_NAME = /^[a-z0-9-]{1,40}$/;
function accountOf(name) {
  if (!ACCOUNT_NAME.test(name || '')) return undefined;
  return { email: `${name}@example.com`, email_verified: !name.startsWith('unverified'), mfa: name.startsWith('mfa') };
}
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...client,
}));
const resource = process.env.OIDC_RESOURCE || 'urn:panther-like:api';

const escape = (text) => String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const page = (title, body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    cookies: { keys: ['panther-like-test-provider-cookie-key'] },
    acrValues: ['0', 'mfa'],
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    async findAccount(ctx, sub) {
      const account = accountOf(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: account.email, email_verified: account.email_verified, name: sub, preferred_username: sub };
        },
      };
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // The client "plain" stands for an OAuth 2 provider without a resource: its token reads the userinfo.
        defaultResource: (ctx, client) => (client.clientId === 'plain' ? undefined : resource),
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ audience: resource, scope: 'openid email profile', accessTokenFormat: 'jwt' }),
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  });
  provider.proxy = false;
  const callback = provider.callback();

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (req.method === 'GET') {
      if (prompt.name === 'login') {
        return send(res, 200, page('Sign in', `<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`));
      }
      return send(res, 200, page('Authorize', `<h1>Let ${escape(params.client_id)} see your profile?</h1>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>`));
    }
    const form = await formBody(req);
    if (action === 'login') {
      const login = form.get('login') || '';
      const account = accountOf(login);
      if (!account || form.get('password') !== PASSWORD) return send(res, 401, page('Sign in', '<p>Wrong username or password</p>'));
      const amr = account.mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'];
      const result = { login: { accountId: login, amr, acr: account.mfa ? 'mfa' : '0' } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    const { details: missing } = prompt;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  // GitHub-style address list (GET /user/emails with the access token), for the plain OAuth 2 client.
  async function emails(req, res) {
    const token = (req.headers.authorization || '').replace(/^Bearer /, '');
    const found = token && (await provider.AccessToken.find(token));
    if (!found) return send(res, 401, page('Unauthorized', ''));
    const account = accountOf(found.accountId);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify([
      { email: `old-${found.accountId}@example.com`, verified: true, primary: false },
      { email: `${found.accountId}@users.example.com`, verified: account.email_verified, primary: true },
    ]));
  }

  server.on('request', (req, res) => {
    if (req.url === '/user/emails') return emails(req, res).catch(() => send(res, 500, page('Error', '')));
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm))?$/.exec(req.url.split('?')[0]);
    if (!match) return callback(req, res);
    interaction(req, res, match[1], match[2]).catch((error) => {
      send(res, 400, page('Error', `<p>${escape(error.message)}</p>`));
    });
  });
  process.stdout.write(JSON.stringify({ issuer, port }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
