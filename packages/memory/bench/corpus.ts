// The labelled data of memory.bench.ts: a corpus of engineering memories as a team's agents would write them
// (decisions, runbooks, notes, gotchas, incidents, config, per-service facts), labelled queries over it, and a
// deterministic noise generator for the 10k / 100k workspaces.
//
// The corpus is written so that lexical search has to work for it: most topics have near-miss distractors that
// share words with the target (password hashing vs password reset vs password policy; cache vs CDN vs CI cache;
// flags vs cookie flags), some targets say the query's word only in their key, and some queries are paraphrases.

import { prng } from '../../../bench/harness.ts'
import type { JsonValue } from '../src/types.ts'

export interface CorpusEntry {
  key: string
  value: JsonValue
}

/** [key, value]: the hand-written memories. */
const NOTES: Array<[string, JsonValue]> = [
  // Caching
  [
    'decisions/caching/product-pages-redis',
    'Rendered product pages are cached in Redis for 300 seconds, keyed by locale and currency. Merchandising accepted up to five minutes of stale prices in exchange for halving p95 page latency.',
  ],
  [
    'decisions/caching/cdn-static-assets',
    'Fingerprinted JavaScript, CSS and images are served from CloudFront with immutable headers and a one-year max-age. The origin only sees misses right after a deploy.',
  ],
  [
    'decisions/caching/settings-invalidation-listen-notify',
    'Each web process keeps a small LRU of tenant settings. A Postgres trigger sends NOTIFY on change, so every process drops the entry within a second instead of waiting for a TTL.',
  ],
  [
    'gotchas/cache/stampede-after-deploy',
    'After every deploy the Redis cache is cold and all web nodes recompute the homepage at once, which pinned the database at 100% CPU twice. Use cache.getOrLock(), which lets one caller recompute while the others serve the stale value.',
  ],
  [
    'notes/redis/eviction-policy',
    'The shared Redis runs maxmemory-policy allkeys-lru with 6 GB. Sessions live in a separate Redis instance with noeviction, so logged-in users are never kicked out by memory pressure.',
  ],
  [
    'runbooks/redis/failover',
    'If the primary Redis node dies, Sentinel promotes a replica within about 30 seconds. Check with `redis-cli -p 26379 sentinel get-master-addr-by-name main` and restart the web pods if they keep talking to the old address.',
  ],
  [
    'notes/frontend/cache-busting',
    'The SPA busts browser caches with content hashes in file names. Do not add ?v= query strings: CloudFront is configured to ignore query strings for static paths.',
  ],
  [
    'gotchas/cache/cache-key-missing-currency',
    'A cached fragment once showed USD prices to EUR customers because the cache key left out the currency. Every key for a price-bearing fragment must include locale and currency.',
  ],
  [
    'notes/caching/http-cache-headers-api',
    'API responses send Cache-Control: private, no-store by default. Public endpoints like /v1/catalog opt in to max-age=60 through the @cacheable decorator.',
  ],
  [
    'gotchas/ci/pnpm-store-cache',
    'CI restores the pnpm store from the GitHub Actions cache keyed on the lockfile hash. When installs suddenly take 4 minutes, the cache step has probably stopped matching.',
  ],
  [
    'gotchas/cache/redis-serialization-dates',
    'Objects cached in Redis come back with dates as strings; the cache helper revives ISO strings only for fields declared in the schema.',
  ],
  [
    'notes/caching/query-result-cache',
    'We do not cache SQL query results generically. Cache only rendered fragments or API responses, with explicit keys and TTLs.',
  ],
  [
    'gotchas/web/cdn-caching-set-cookie',
    'Responses with Set-Cookie are never cached by CloudFront, so a middleware that touched the session on every request dropped the CDN hit rate to zero.',
  ],

  // Auth
  [
    'decisions/auth/password-hashing-argon2id',
    'Passwords are hashed with argon2id (m=64MiB, t=3, p=1) and rehashed on login when the parameters change. bcrypt was rejected because it silently truncates input at 72 bytes.',
  ],
  [
    'decisions/auth/api-token-sha256',
    'Personal API tokens are random 32-byte values stored only as SHA-256 digests and compared in constant time. Slow password-style hashing buys nothing for high-entropy secrets.',
  ],
  [
    'runbooks/auth/reset-user-password',
    'Support sends a reset link from the admin console (Users → Security → Send reset link). Nobody sets a password directly in the database, not even for internal accounts.',
  ],
  [
    'gotchas/auth/reset-link-expiry',
    'Password reset links expire after 30 minutes, but the email provider sometimes delays delivery by 10 minutes or more. Support should resend the link rather than ask engineering to extend the expiry.',
  ],
  [
    'notes/auth/sso-saml',
    "Enterprise customers sign in with SAML SSO through WorkOS. Each customer's IdP certificate is stored in WorkOS, and ours rotates every March.",
  ],
  [
    'decisions/auth/session-cookies',
    'Session cookies are HttpOnly, Secure and SameSite=Lax: scripts cannot read them, they never travel over plain HTTP, and cross-site POSTs do not carry them, which covers most CSRF without tokens.',
  ],
  [
    'decisions/auth/jwt-signing-key-rotation',
    'JWT signing keys are rotated every 90 days. The new key is published in the JWKS endpoint a week before it starts signing, and the old one is retired once its tokens have expired.',
  ],
  [
    'gotchas/auth/jwt-clock-skew',
    "Android clients with skewed clocks got 'token not yet valid' errors. The verifier now allows 60 seconds of leeway on nbf and iat.",
  ],
  [
    'notes/auth/mfa-totp',
    'Two-factor authentication uses TOTP apps; SMS codes were dropped in 2023 after a SIM-swap incident. Recovery codes are shown once and stored hashed.',
  ],
  [
    'runbooks/auth/unlock-locked-account',
    'Accounts lock for 15 minutes after too many failed sign-ins. Support can unlock earlier from Users → Security after verifying the owner through the registered email.',
  ],
  [
    'notes/auth/service-to-service-auth',
    'Internal services authenticate to each other with mTLS certificates issued by the mesh; there are no shared API keys between services.',
  ],
  [
    'gotchas/auth/oauth-redirect-uri-exact',
    'Google OAuth requires the redirect URI to match exactly, trailing slash included, which is why preview deployments cannot sign in with Google.',
  ],
  [
    'gotchas/auth/session-fixation',
    'The session id is regenerated on login and on every privilege change; a pre-login session once survived sign-in in the old admin.',
  ],
  [
    'notes/auth/password-policy',
    "Passwords need at least 12 characters and are checked against the Have I Been Pwned range API. There are no composition rules (no 'one symbol' requirement).",
  ],
  [
    'gotchas/auth/password-manager-autofill',
    "Password managers fill the wrong field on the combined sign-up form unless the inputs carry autocomplete='new-password' and 'current-password'.",
  ],
  [
    'decisions/auth/magic-links-rejected',
    'Magic-link login was rejected: corporate mail scanners click links and burn them, and people on shared inboxes could sign in as each other.',
  ],

  // Database
  [
    'conventions/db/migrations-expand-contract',
    'Schema changes follow expand and contract: add the new column, backfill, switch readers, and drop the old column only in a later release, so old and new code can run side by side.',
  ],
  [
    'runbooks/db/run-migrations-production',
    'Migrations run from the release pipeline (`make migrate ENV=prod`) before new pods roll out. Long backfills do not belong in a migration; write a batched job instead.',
  ],
  [
    'gotchas/db/alter-table-lock-timeout',
    "ALTER TABLE on orders takes an ACCESS EXCLUSIVE lock and queues every checkout behind it. Always SET lock_timeout = '3s' at the top of a migration and retry instead of waiting.",
  ],
  [
    'notes/db/pgbouncer-transaction-mode',
    'pgbouncer runs in transaction pooling mode: no session-level prepared statements, no SET outside a transaction, and no advisory locks held across statements.',
  ],
  [
    'decisions/db/uuidv7-primary-keys',
    'New tables use UUIDv7 primary keys: time-ordered like a sequence, so B-tree inserts stay local, but safe to generate on clients and to expose in URLs.',
  ],
  [
    'decisions/db/reporting-read-replica',
    'Dashboards and CSV exports run long aggregate queries against a streaming read replica, which keeps the primary free for checkout traffic.',
  ],
  [
    'gotchas/db/replica-lag-read-your-writes',
    'The read replica lags up to 2 seconds at peak. Flows that read right after writing (signup, checkout confirmation) must query the primary.',
  ],
  [
    'runbooks/db/restore-from-backup',
    'Restores come from the nightly encrypted dump: download it from the backups bucket, decrypt it with the age key from the vault, and pg_restore into a fresh instance. Rehearsed monthly; takes about 40 minutes.',
  ],
  [
    'decisions/db/encrypted-backups-age',
    'Nightly database dumps are encrypted with age to a recipient key held in the vault before upload to object storage. Plain dumps never leave the database host.',
  ],
  [
    'notes/db/events-table-autovacuum',
    'The events table needs aggressive autovacuum settings (scale factor 0.01); with the defaults it bloated to ten times its size within a week.',
  ],
  [
    'gotchas/db/legacy-timestamp-without-time-zone',
    "The legacy invoices.issued_at column is timestamp without time zone and holds Berlin local time. Convert it with AT TIME ZONE 'Europe/Berlin' before comparing it with anything else.",
  ],
  [
    'notes/db/slow-query-log',
    'Queries slower than 500 ms are logged by Postgres and summarised daily in #db-slow-queries; the top offender is usually a missing index on a new foreign key.',
  ],
  [
    'gotchas/db/orm-n-plus-one-orders',
    'Listing orders with their line items through the ORM issues one query per order. Use the preload helper withItems() on any list endpoint.',
  ],
  [
    'conventions/db/naming',
    'Tables are plural snake_case, foreign keys are <singular>_id, and every table has created_at and updated_at as timestamptz.',
  ],
  [
    'runbooks/db/kill-long-running-query',
    'Find the pid with `select pid, now() - query_start, query from pg_stat_activity order by 2 desc`, then call pg_cancel_backend(pid); use pg_terminate_backend only if cancelling does not work.',
  ],
  [
    'notes/db/indexes-concurrently',
    'Create indexes on big tables with CREATE INDEX CONCURRENTLY outside a transaction; the migration tool needs `-- no-transaction` at the top of such files.',
  ],
  [
    'gotchas/deploy/migration-and-code-same-release',
    'Never drop a column in the same release that stops using it: during the rollout, old pods still select it and crash.',
  ],
  [
    'decisions/infra/managed-postgres',
    'Postgres runs on RDS with Multi-AZ; we do not operate database servers ourselves. Major version upgrades happen once a year with RDS blue/green deployments.',
  ],
  [
    'gotchas/postgres/in-clause-parameter-limit',
    'The pg driver cannot send more than 65,535 parameters in one query, so bulk inserts pass arrays and unnest them instead of one placeholder per value.',
  ],

  // Billing and payments
  [
    'decisions/billing/money-integer-cents',
    'Amounts are stored as bigint minor units with an ISO 4217 currency code next to them. Floating point caused rounding drift in invoice totals; formatting happens only at the edge.',
  ],
  [
    'decisions/payments/idempotency-keys',
    'Payment requests require an Idempotency-Key header. The server stores the first response for 24 hours and replays it, so a retried charge never bills a customer twice.',
  ],
  [
    'runbooks/payments/refund-charge',
    'Refunds under 500 EUR can be issued from the Stripe dashboard. Larger ones go through `billing refund --charge <id> --reason <text>` so the ledger records the entry and finance gets notified.',
  ],
  [
    'gotchas/payments/stripe-webhooks-out-of-order',
    'Stripe events can arrive out of order: invoice.paid sometimes lands before invoice.created. Handlers upsert by object id and ignore events older than the stored created timestamp.',
  ],
  [
    'notes/billing/vat-rounding-per-line',
    'VAT is rounded per line item, not on the invoice total, as the German tax office expects. Totals can differ by a cent from a naive sum; that is correct.',
  ],
  [
    'gotchas/frontend/float-arithmetic-prices',
    'Never add prices as JavaScript numbers in the frontend; use dinero.js. A 0.1 + 0.2 bug once displayed 29.999999 EUR on the checkout page.',
  ],
  [
    'notes/billing/invoice-numbering-gapless',
    'Invoice numbers must be sequential without gaps per legal entity, a German requirement. They come from a counter row locked per entity, not from a Postgres sequence, because sequences skip values on rollback.',
  ],
  [
    'decisions/billing/dunning-schedule',
    'Failed subscription payments are retried on days 1, 3, 7 and 14. After the last attempt the account drops to the free plan and the customer gets an email with a payment link.',
  ],
  [
    'notes/payments/stripe-test-cards',
    'In staging, Stripe test card 4000 0025 0000 3155 triggers 3-D Secure and 4000 0000 0000 9995 always declines with insufficient funds.',
  ],
  [
    'gotchas/billing/proration-timezone',
    'Plan changes prorate by calendar day in UTC, so an upgrade at 23:30 Berlin time can be billed for an extra day. Known and accepted by finance.',
  ],
  [
    'runbooks/billing/regenerate-invoice-pdf',
    'If an invoice PDF is wrong, fix the data and run `billing invoices render <number>`. The invoice number never changes and the old PDF is archived, not deleted.',
  ],
  [
    'notes/payments/payout-schedule',
    'Stripe pays out to the company account daily with a 7-day rolling delay; finance reconciles payouts every Monday.',
  ],
  [
    'notes/payments/supported-methods',
    'Checkout supports cards, PayPal, SEPA direct debit and Klarna. SEPA takes up to five days to confirm, so those orders stay in payment_pending.',
  ],
  [
    'gotchas/payments/sepa-late-failure',
    'SEPA debits can fail up to eight weeks later through a chargeback, which is why digital goods are not offered with SEPA.',
  ],
  [
    'notes/billing/tax-provider',
    'Sales tax for US orders is calculated by the tax-rate API (TaxJar). EU VAT rates are kept in our own table and updated by hand when they change.',
  ],
  [
    'gotchas/billing/currency-rounding-jpy',
    'JPY and KRW have no minor unit: 1 in the database means 1 yen, not 0.01. The money helpers know the exponent of each currency.',
  ],
  [
    'runbooks/payments/dispute',
    "When a chargeback dispute arrives, the Stripe webhook opens a ticket for team Ledger. Evidence must be submitted within 7 days from Stripe's dashboard.",
  ],
  [
    'runbooks/checkout/orders-stuck-pending',
    'Orders that sit in pending for more than 15 minutes usually mean the payment webhook was missed. Run `billing reconcile --since 1h` to fetch the payment status from Stripe and advance them.',
  ],

  // Webhooks, integrations, reliability
  [
    'decisions/integrations/webhook-retry-backoff',
    'Outgoing webhook deliveries are retried up to 12 times over 24 hours, doubling the delay each attempt with full jitter. After that the delivery is parked for manual replay.',
  ],
  [
    'runbooks/integrations/replay-parked-webhooks',
    'Parked deliveries show up in Admin → Integrations → Dead letters, where they can be selected and replayed. From a shell: `ops webhooks replay --since 2h --customer <id>`.',
  ],
  [
    'gotchas/integrations/webhook-signature-raw-body',
    'Verifying incoming webhook signatures needs the raw request body. The JSON body parser must be skipped on /hooks/* routes or every signature check fails.',
  ],
  [
    'notes/http/client-retry-policy',
    'The shared HTTP client retries idempotent GET requests twice on 502 and 503 with a 200 ms pause. POST requests are never retried automatically.',
  ],
  [
    'decisions/reliability/circuit-breaker-shipping-rates',
    'Calls to the shipping-rates provider sit behind a circuit breaker: after five consecutive failures they short-circuit for 30 seconds and checkout falls back to flat-rate shipping instead of hanging.',
  ],
  [
    'notes/integrations/slack-app',
    'The Slack app posts order alerts for enterprise customers. Its signing secret is in the vault under integrations/slack, and tokens are per workspace.',
  ],
  [
    'gotchas/integrations/hubspot-rate-limit',
    'HubSpot allows 100 requests per 10 seconds per app. The CRM sync batches contacts by 100 and sleeps on 429 using the Retry-After header.',
  ],
  [
    'decisions/reliability/timeouts-everywhere',
    'Every outbound HTTP call must set a timeout (default 5 s, payments 15 s). An upstream without one hung the worker pool for 20 minutes in the March incident.',
  ],
  [
    'notes/api/webhooks-outgoing-format',
    'Outgoing webhooks are signed with HMAC-SHA256 in the X-Acme-Signature header over the timestamp and raw body; customers should reject timestamps older than five minutes.',
  ],
  [
    'notes/webhooks/customer-endpoint-timeouts',
    "We wait 10 seconds for a customer's webhook endpoint to answer; anything slower counts as a failure and enters the retry schedule.",
  ],

  // Observability
  [
    'decisions/observability/opentelemetry-tracing',
    'Services export spans over OTLP to the collector. Trace context propagates through HTTP headers and queue message attributes, so a request can be followed across services.',
  ],
  [
    'conventions/logging/structured-json',
    'Every log line is one JSON object with level, msg and req_id, taken from the X-Request-Id header, so logs can be joined with traces.',
  ],
  [
    'runbooks/observability/trace-for-request',
    'Take the X-Request-Id from the response headers and search it in Grafana Tempo. The same id is the req_id field in Loki, so logs and spans line up.',
  ],
  [
    'gotchas/logging/pii-in-logs',
    'Never log full request bodies on /signup or /checkout: they contain emails and addresses. The redaction middleware only knows the fields listed in logging/redact.ts.',
  ],
  [
    'notes/observability/alert-routing',
    "PagerDuty pages the owning team's on-call for P1 alerts only. Everything else goes to #alerts-<team> in Slack and is looked at during office hours.",
  ],
  [
    'notes/observability/trace-sampling',
    'Production traces are head-sampled at 10%. The collector keeps every trace that contains an error (tail sampling), so failed requests are always traceable.',
  ],
  [
    'gotchas/metrics/high-cardinality-labels',
    'Never put user ids or raw URLs in Prometheus labels: api_requests_total once grew to two million series. Label with the route template instead.',
  ],
  [
    'notes/observability/dashboards',
    "The 'API overview' dashboard in Grafana is the first stop during an incident: request rate, error rate and p95 latency per route.",
  ],
  [
    'runbooks/oncall/handover',
    'On-call hands over on Monday at 10:00 in #oncall with open incidents, silenced alerts and anything deployed late on Friday.',
  ],
  [
    'notes/observability/error-tracking-sentry',
    'Frontend and backend exceptions go to Sentry. Release tags come from the git sha, so a regression can be traced to a deploy.',
  ],
  [
    'notes/observability/log-retention',
    'Application logs are kept 30 days in Loki; audit logs are kept 7 years in S3 with object lock.',
  ],
  [
    'notes/api/request-id',
    'Every response carries X-Request-Id. If the client sent one we keep it; otherwise the gateway generates a UUID.',
  ],

  // Deploys and releases
  [
    'decisions/deploy/blue-green-kubernetes',
    'Releases go to the idle colour, pass smoke tests, and then the Kubernetes service selector flips. Rolling back means flipping it again.',
  ],
  [
    'runbooks/deploy/rollback',
    'Run `deploy rollback api --to previous` to switch traffic back to the previous colour. Database migrations are not reverted, which is why they must be backwards compatible.',
  ],
  [
    'runbooks/deploy/hotfix',
    'Branch from the release tag, cherry-pick the fix, and ship it with `deploy --hotfix`. That skips the 30-minute canary but never the smoke tests.',
  ],
  [
    'gotchas/deploy/friday-freeze',
    'No production deploys after 15:00 on Fridays, and none during the December freeze (20 December to 2 January) without VP approval.',
  ],
  [
    'notes/deploy/canary-analysis',
    "The canary receives 5% of traffic for 30 minutes and is rolled back automatically if its error rate is more than double the baseline's.",
  ],
  [
    'gotchas/k8s/readiness-probe-before-warmup',
    'The API pod reported ready before its connection pool had warmed up, so the first requests after a rollout were slow. The readiness probe now hits /ready, which waits for the pool.',
  ],
  [
    'notes/deploy/preview-environments',
    'Every pull request gets a preview environment at pr-<number>.preview.acme.dev with a seeded database; it is deleted when the PR closes.',
  ],
  [
    'gotchas/deploy/env-var-change-needs-restart',
    'Changing a value in the config map does not restart pods. Run `kubectl rollout restart deployment/<name>`, or the old value stays until the next deploy.',
  ],
  [
    'conventions/release/versioning',
    'Packages follow semver; the release bot derives the next version from the Conventional Commit messages since the last tag.',
  ],
  [
    'notes/deploy/release-train',
    'The web app deploys continuously from main, the API deploys several times a day after the canary, and mobile follows the two-week release train.',
  ],
  [
    'gotchas/frontend/env-vars-build-time',
    'Frontend environment variables are baked in at build time: changing NEXT_PUBLIC_* in the deployment does nothing until the next build.',
  ],

  // Feature flags
  [
    'decisions/flags/launchdarkly-not-env-vars',
    'Feature flags live in LaunchDarkly, not environment variables: toggling must not need a redeploy, and product wants percentage rollouts. Environment variables remain for secrets and infrastructure settings.',
  ],
  [
    'runbooks/flags/checkout-kill-switch',
    'If the new checkout misbehaves, turn off the checkout-v2 flag in LaunchDarkly. It takes effect within 30 seconds for all users, without a deploy.',
  ],
  [
    'gotchas/flags/stale-flags-cleanup',
    'Flags older than 90 days show up in the weekly #eng-hygiene report. Remove the code path first, then delete the flag, never the other way round.',
  ],
  [
    'gotchas/flags/flag-evaluation-in-jobs',
    'Background jobs evaluate flags without a user context, so percentage rollouts always resolve to the default variation there. Pass the account as context explicitly.',
  ],

  // Security, privacy, rate limits
  [
    'decisions/security/login-rate-limit',
    'Credential stuffing hit the sign-in form, so login attempts are limited to 10 per IP and 5 per account every 15 minutes; after that a CAPTCHA is required.',
  ],
  [
    'notes/api/public-api-rate-limits',
    'The public API allows 600 requests per minute per token with bursts of 100, enforced at the gateway. 429 responses carry a Retry-After header.',
  ],
  [
    'gotchas/security/client-ip-behind-load-balancer',
    "Behind the load balancer req.ip is the balancer's address. The limiter must read X-Forwarded-For with trust proxy set to 1, or every user shares one bucket.",
  ],
  [
    'decisions/security/row-level-security',
    "Every tenant table has a row-level security policy on tenant_id, set per transaction from the session, so a missing WHERE clause in application code cannot leak another tenant's rows.",
  ],
  [
    'runbooks/security/leaked-secret',
    'If a secret reaches GitHub: revoke it first, then issue a new one and deploy it, and only then scrub the history. GitGuardian alerts land in #security.',
  ],
  [
    'gotchas/security/csp-inline-scripts',
    'The Content-Security-Policy forbids inline scripts. Analytics snippets need a nonce from the server template, otherwise they are silently blocked, in production only.',
  ],
  [
    'notes/security/dependency-updates',
    'Renovate opens dependency update PRs every Monday; security patches are merged within 48 hours and major versions are batched monthly.',
  ],
  [
    'decisions/privacy/gdpr-soft-delete',
    'Deleted customers are hidden immediately and purged by a nightly job after 30 days. That satisfies GDPR erasure requests while letting support undo mistakes.',
  ],
  [
    'runbooks/privacy/data-export-request',
    'For a GDPR data export, run `privacy export --customer <id>`; it collects orders, invoices and support tickets into a zip the customer downloads from a one-time link.',
  ],
  [
    'notes/security/pentest',
    'The yearly penetration test is in October. Findings are tracked in the SEC Jira project and must be fixed before the SOC 2 audit window.',
  ],
  [
    'notes/security/csrf',
    'Forms rely on SameSite=Lax cookies plus an Origin header check; the old double-submit CSRF token survives only in the legacy admin.',
  ],
  [
    'notes/security/secrets-vault',
    'Application secrets live in HashiCorp Vault and are injected as files at pod start. Never put secrets in the config map or in the repository.',
  ],
  [
    'notes/data/pii-columns',
    'Columns holding personal data are tagged with a pii comment in the schema; the anonymised staging copy replaces them with fake values.',
  ],
  [
    'notes/web/cookie-consent',
    'Marketing cookies are set only after consent through the cookie banner; the consent record is kept for 12 months.',
  ],

  // Search
  [
    'decisions/search/postgres-fts-first',
    'Product search uses Postgres full-text search (tsvector columns with GIN indexes). A separate Elasticsearch cluster would need syncing and its own on-call, which is not worth it at our size.',
  ],
  [
    'gotchas/search/unaccent-umlauts',
    "Search must run through the unaccent dictionary: customers type 'muller' and expect to find 'Müller'.",
  ],
  [
    'runbooks/search/reindex-products',
    '`jobs run reindex-products` rebuilds the search vectors in batches of 5,000; a full catalog takes about 20 minutes and the site stays up.',
  ],
  [
    'notes/search/typeahead',
    'The search box autocompletes after two characters against a prefix index of product names, with a 150 ms debounce in the browser.',
  ],
  [
    'gotchas/search/synonyms-sizes',
    "Shoppers search for 'XL' and 'extra large' interchangeably; search/synonyms.txt maps them and must be reloaded after edits.",
  ],
  [
    'notes/search/elasticsearch-evaluation',
    'We evaluated Elasticsearch and OpenSearch in 2024 for typo tolerance. Revisit if the catalog passes one million products or we need faceting beyond simple filters.',
  ],
  [
    'decisions/search/ranking-boosts',
    'Search ranks in-stock products above out-of-stock ones and boosts exact SKU matches to the top.',
  ],
  [
    'runbooks/search/search-returns-nothing',
    'If product search returns nothing, check that the reindex job did not leave search_vector null: `select count(*) from products where search_vector is null`.',
  ],

  // Email and notifications
  [
    'decisions/email/transactional-outbox',
    'Transactional emails are written to an outbox table in the same transaction as the business change, and a relay delivers them; consumers are idempotent, so at-least-once delivery is safe.',
  ],
  [
    'decisions/notifications/sse-over-websockets',
    'Live notifications use server-sent events, not websockets: they only flow one way, SSE passes our proxies without upgrades and reconnects by itself.',
  ],
  [
    'gotchas/email/staging-sandbox',
    'Staging sends mail through SendGrid in sandbox mode: messages are accepted but never delivered. Look at them in Mailpit at mail.staging.acme.dev instead.',
  ],
  [
    'notes/notifications/mobile-push-fcm',
    'Mobile push goes through Firebase Cloud Messaging for both Android and iOS. Device tokens become invalid when the app is reinstalled, and we drop them on the first 404.',
  ],
  [
    'runbooks/email/bounce-spike',
    'If the bounce rate passes 5%, pause marketing sends in SendGrid and check whether a single domain (often a corporate filter) is rejecting us.',
  ],
  [
    'gotchas/email/dkim-new-domain',
    'A new sender domain needs SPF, DKIM and DMARC records before the first send, or Gmail puts everything in spam for weeks.',
  ],
  [
    'notes/notifications/digest-batching',
    'Comment notifications are batched into a digest every 15 minutes, so a busy thread does not send dozens of emails.',
  ],

  // Frontend and mobile
  [
    'conventions/frontend/state-management',
    'Server state lives in TanStack Query; only UI state goes in Zustand. No Redux in new code.',
  ],
  [
    'gotchas/frontend/hydration-mismatch-dates',
    "Formatting dates with toLocaleString during server rendering causes hydration mismatches. Format on the client, or pass the user's locale and time zone explicitly.",
  ],
  [
    'notes/frontend/bundle-budget',
    'The checkout bundle must stay under 180 kB gzipped; size-limit fails the CI build above that.',
  ],
  [
    'gotchas/frontend/safari-date-parsing',
    "Safari cannot parse '2024-01-05 10:00:00' with a space instead of T. The API always returns ISO 8601 with a Z suffix.",
  ],
  [
    'decisions/frontend/tailwind',
    'New UI is styled with Tailwind and the shared design tokens; CSS modules remain only in the legacy admin.',
  ],
  [
    'conventions/frontend/forms',
    'Forms use react-hook-form with the same zod schema as the API, so client and server validation messages agree.',
  ],
  [
    'gotchas/frontend/ios-input-zoom',
    'iOS Safari zooms into inputs with a font size below 16px. Keep form inputs at 16px or larger on mobile.',
  ],
  [
    'notes/frontend/i18n',
    'UI strings live in locales/<lang>.json and are translated in Crowdin. German texts run about 30% longer, so test layouts with them.',
  ],
  [
    'notes/frontend/image-optimization',
    'Product images are resized on the fly by the image CDN (imgproxy): request the width you display, never the original upload.',
  ],
  [
    'decisions/mobile/react-native',
    'The mobile apps are React Native with Expo, with native modules only for payments and the camera. Over-the-air updates ship JS fixes without app store review.',
  ],
  [
    'notes/mobile/app-release-cadence',
    'Mobile releases go out every two weeks on Tuesday. App Store review usually takes a day, so cut the release branch on Monday.',
  ],
  [
    'runbooks/mobile/force-update',
    'To force users onto a new app version, raise min_supported_version in the remote config; older apps then show a blocking update screen.',
  ],
  [
    'gotchas/mobile/offline-retries',
    'The mobile app queues mutations while offline and replays them on reconnect; every queued mutation carries an idempotency key so replays are safe.',
  ],
  [
    'notes/web/accessibility',
    'We target WCAG 2.1 AA. Every interactive component needs a visible focus state and must work with the keyboard alone.',
  ],
  [
    'notes/web/seo-sitemaps',
    'Sitemaps are generated nightly per locale and split at 50,000 URLs; Google Search Console is owned by the marketing team.',
  ],

  // Infrastructure
  [
    'notes/infra/terraform-state',
    'Terraform state lives in the acme-tf-state S3 bucket with DynamoDB locking. Never run apply from a laptop; use Atlantis comments on the pull request.',
  ],
  [
    'runbooks/infra/rotate-aws-access-keys',
    'Rotate the CI AWS access keys every 90 days: create a second key, update the GitHub Actions secret, verify a pipeline run, then delete the old key.',
  ],
  [
    'gotchas/infra/nat-gateway-costs',
    'Pulling container images through the NAT gateway cost about 4,000 USD a month. ECR has a VPC endpoint now, so images never leave the private network.',
  ],
  [
    'decisions/infra/s3-presigned-uploads',
    'Browsers upload images directly to S3 with short-lived presigned PUT URLs; the API only signs and later verifies the object, keeping large bodies off our servers.',
  ],
  [
    'notes/infra/dns-cloudflare',
    'DNS is managed in Cloudflare. api.acme.com is proxied through Cloudflare; internal.acme.com is DNS-only and reachable over the VPN.',
  ],
  [
    'gotchas/k8s/node-heap-oomkilled',
    "Node.js pods were OOMKilled at 512Mi because V8's default heap ignores the container limit. Set NODE_OPTIONS=--max-old-space-size to about 75% of the memory limit.",
  ],
  [
    'notes/infra/regions',
    'Production runs in eu-central-1 with a warm standby in eu-west-1; customer data must stay in the EU.',
  ],
  [
    'runbooks/infra/scale-up-for-sale',
    'Before a big sale, raise the API HPA minimum to 20 replicas and pre-warm the Redis cache with `jobs run warm-cache` an hour ahead.',
  ],
  [
    'gotchas/infra/tls-cert-renewal-internal',
    'Internal services use certificates from our own CA that expire after 90 days. cert-manager renews them, but the legacy VM running the FTP bridge needs a manual renewal.',
  ],
  [
    'notes/infra/cost-tags',
    'Every AWS resource needs team and service tags; untagged resources show up in the monthly cost review and are deleted after two warnings.',
  ],
  [
    'runbooks/infra/ssh-access',
    'There is no SSH to production nodes. Use kubectl debug or an SSM session to the bastion, which is logged.',
  ],
  [
    'gotchas/k8s/cronjob-concurrency',
    'Kubernetes CronJobs run twice if the previous run is still going unless concurrencyPolicy is Forbid; the scheduler jobs rely on advisory locks anyway.',
  ],
  [
    'gotchas/docker/alpine-dns',
    'Alpine-based images resolved internal hostnames slowly because musl ignores the search domain order; services use debian-slim images now.',
  ],
  [
    'runbooks/cdn/purge',
    'To purge the CDN for a path, run `ops cdn purge /products/*`. A full purge doubles origin traffic for ten minutes, so avoid it during the day.',
  ],
  [
    'runbooks/db/disk-space',
    'If the database disk passes 85%, check for bloat in events and audit_log, run `vacuum (verbose) events`, and raise the storage in RDS; storage can grow online but never shrink.',
  ],

  // Jobs and queues
  [
    'decisions/jobs/advisory-locks-scheduler',
    'Only one worker may run a given cron job at a time. pg_try_advisory_lock keyed by the job name does that without a separate lock service, and the lock is released automatically if the connection dies.',
  ],
  [
    'gotchas/jobs/sqs-visibility-timeout',
    'The SQS visibility timeout must be longer than the slowest job (image processing takes up to 4 minutes); otherwise the message reappears and is processed twice.',
  ],
  [
    'runbooks/jobs/drain-queue',
    'To drain a queue before maintenance, scale the consumer deployment to zero, wait until ApproximateNumberOfMessagesNotVisible is 0, then do the work.',
  ],
  [
    'notes/jobs/cron-utc',
    "All cron schedules are in UTC: the 'daily report at 8' job runs at 08:00 UTC, which is 09:00 or 10:00 in Berlin depending on daylight saving time.",
  ],
  [
    'decisions/time/utc-everywhere',
    "Every timestamp is stored in UTC: columns are timestamptz and servers run with TZ=UTC. The user's time zone is applied only when rendering, which ended the daylight saving bugs in reports.",
  ],
  [
    'gotchas/jobs/dead-letter-queue-alarm',
    'Messages that fail five times move to the dead-letter queue. Nobody notices unless the DLQ depth alarm fires, so every new queue needs one.',
  ],
  [
    'notes/jobs/priority-queues',
    'Transactional work (receipts, password resets) runs on the critical queue with dedicated workers; bulk exports run on the batch queue and may wait minutes.',
  ],
  [
    'gotchas/jobs/job-payload-size',
    'SQS messages are limited to 256 KB. Put large payloads in S3 and send only the object key.',
  ],
  [
    'notes/jobs/image-processing',
    'Uploaded images are processed by the image worker (thumbnails, EXIF stripping, virus scan) before they become visible.',
  ],
  [
    'gotchas/upload/exif-location',
    'Customer photos carried GPS coordinates in their EXIF data; the image worker strips all metadata before storing the public copy.',
  ],
  [
    'gotchas/time/dst-weekly-reports',
    "The weekly report covering the daylight saving switch has 167 or 169 hours. Aggregate by calendar day in the customer's time zone, not by 24-hour buckets.",
  ],
  [
    'gotchas/time/cron-dst-gap',
    'A job scheduled at 02:30 Europe/Berlin does not run on the spring daylight saving day because that time does not exist; schedules are in UTC for that reason.',
  ],
  [
    'runbooks/data/backfill-job',
    'Write backfills as resumable jobs that process 1,000 rows per batch by primary key and record the last id; never one UPDATE over millions of rows.',
  ],
  [
    'decisions/queues/sqs-not-kafka',
    'Background work uses SQS rather than Kafka: we need work queues, not an ordered event log, and nobody wants to run brokers.',
  ],

  // Tooling, testing, process
  [
    'decisions/tooling/pnpm-workspaces',
    'The monorepo uses pnpm workspaces: one lockfile, strict dependency resolution and fast installs from the content-addressed store; turbo runs tasks across packages.',
  ],
  [
    'conventions/git/conventional-commits',
    'Commit messages follow Conventional Commits (feat:, fix:, chore:); the release bot computes versions and changelogs from them.',
  ],
  [
    'gotchas/tooling/node-version',
    'The repo needs Node 22 (see .nvmrc). Node 20 fails on the using declarations in the test helpers with a confusing syntax error.',
  ],
  [
    'notes/testing/flaky-e2e',
    'The checkout end-to-end suite is flaky around the payment iframe and retries twice in CI. Quarantined tests are listed in e2e/quarantine.json with an owner.',
  ],
  [
    'conventions/testing/real-postgres',
    'Integration tests run against a real Postgres in Docker via testcontainers, never SQLite: SQL dialect differences hid bugs twice.',
  ],
  [
    'conventions/code-review',
    'Pull requests need one approval from the owning team; anything touching payments or auth needs two. Keep PRs under 400 changed lines when possible.',
  ],
  [
    'gotchas/tooling/eslint-import-cycles',
    'import/no-cycle is disabled in CI because it takes 6 minutes; run `pnpm lint:cycles` locally before large refactors.',
  ],
  [
    'notes/tooling/local-setup',
    '`make dev` starts Postgres, Redis and Mailpit in Docker and seeds demo data; the web app runs on localhost:3000 and the API on :4000.',
  ],
  [
    'gotchas/tooling/docker-mac-file-watching',
    'On macOS, file watching inside Docker volumes is slow; run the web dev server natively and only the databases in containers.',
  ],
  [
    'conventions/typescript/strict',
    'TypeScript runs with strict and noUncheckedIndexedAccess. any needs a comment explaining why; prefer unknown and narrow it.',
  ],
  [
    'gotchas/ci/parallel-tests-shared-db',
    "Parallel test workers shared one database and deleted each other's rows. Each worker now creates its own schema named after the worker id.",
  ],
  [
    'gotchas/git/large-files',
    'Do not commit test fixtures larger than 1 MB; put them in the fixtures bucket and download them in the test setup.',
  ],
  [
    'notes/perf/load-testing',
    'Load tests use k6 against the perf environment; the Black Friday profile is 3,000 requests per second with 10% checkouts.',
  ],
  [
    'notes/perf/api-latency-slo',
    'The API SLO is 99.9% of requests under 800 ms over 30 days; the error budget policy freezes feature work when it is exhausted.',
  ],
  [
    'notes/perf/n-plus-one-detection',
    'In development, the query logger warns when one request runs the same SQL shape more than 10 times.',
  ],
  [
    'gotchas/node/unhandled-rejections',
    'Node exits on unhandled promise rejections since v15; a missing await in a route handler crashed the API pods. The no-floating-promises lint rule is now an error.',
  ],
  [
    'gotchas/json/bigint-serialization',
    'JSON.stringify throws on BigInt values. Amounts come back from pg as strings; convert them with the money helpers, never with Number().',
  ],
  [
    'gotchas/unicode/email-normalization',
    "Emails are compared lowercased and NFC-normalised; a user with 'Jürgen@' and 'jürgen@' once ended up with two accounts.",
  ],
  [
    'gotchas/regex/catastrophic-backtracking',
    'An address validation regex with nested quantifiers took seconds on long input and blocked the event loop. Use the re2 package for user-supplied patterns.',
  ],
  [
    'gotchas/redis/keys-command',
    'Never run KEYS in production Redis: it blocks the server while it scans every key. Use SCAN with a MATCH pattern and a COUNT.',
  ],
  [
    'gotchas/redis/ttl-on-hash-fields',
    'Redis cannot expire single hash fields before 7.4, so the rate limiter stores one key per window instead of one hash per user.',
  ],

  // API
  [
    'decisions/api/cursor-pagination',
    'List endpoints paginate with opaque cursors. Offset pagination skipped and duplicated rows under concurrent inserts and got slow on deep pages; the cursor encodes the last sort key in base64.',
  ],
  [
    'conventions/api/error-format',
    'API errors are RFC 7807 problem+json with a stable type URL and a human-readable detail. Never return HTML error pages from /api routes.',
  ],
  [
    'decisions/api/zod-validation',
    'Every HTTP request body is parsed with a zod schema at the boundary and rejected with 422 and the list of issues; nothing untyped reaches the service layer.',
  ],
  [
    'conventions/api/versioning',
    'Breaking changes need a new /v2 route. Old versions keep working for 12 months after the Deprecation and Sunset headers start being sent.',
  ],
  [
    'gotchas/api/trailing-slash-redirect',
    'The gateway redirects /orders/ to /orders with a 301, which turns POSTs into GETs in some clients. Never call the API with a trailing slash.',
  ],
  [
    'notes/api/graphql-deprecated',
    'The GraphQL endpoint is frozen: no new fields since 2024. New features are REST only; mobile still uses GraphQL for the feed.',
  ],
  [
    'gotchas/api/large-csv-export-timeout',
    "CSV exports over 50,000 rows time out at the gateway's 60-second limit, so they run as a background job that emails a download link instead.",
  ],
  [
    'notes/api/openapi',
    'The OpenAPI spec is generated from the zod schemas at build time and published at /docs; client SDKs are generated from it nightly.',
  ],
  [
    'notes/api/idempotent-put',
    'PUT and DELETE on the API are idempotent by design; only POST needs the Idempotency-Key header.',
  ],

  // Architecture decisions
  [
    'decisions/architecture/modular-monolith',
    'We stay a modular monolith with enforced module boundaries (dependency-cruiser rules) instead of splitting into microservices; only search and image processing run separately.',
  ],
  [
    'decisions/architecture/event-bus',
    'Cross-module events go through the transactional outbox and an SNS to SQS fan-out, not direct calls, so a slow consumer cannot slow down checkout.',
  ],
  [
    'decisions/analytics/event-tracking',
    'Product analytics events go to Segment from the backend only, never from the browser, so ad blockers do not skew funnel numbers.',
  ],
  [
    'decisions/data/warehouse',
    'Analytics data lands in BigQuery through a nightly Fivetran sync of the read replica; nobody queries production for analysis.',
  ],
  [
    'decisions/images/imgproxy',
    'Images are resized by imgproxy behind the CDN instead of pre-generating variants; the original upload is kept in S3, and lifecycle rules move it to Glacier after a year.',
  ],
  [
    'decisions/i18n/currency-display',
    "Prices are displayed in the customer's currency with the locale's formatting, but always charged in the currency of the store they belong to.",
  ],
  [
    'decisions/checkout/guest-checkout',
    'Guest checkout is allowed: an account is created silently from the order email, and the customer can claim it by setting a password later.',
  ],
  [
    'decisions/orders/state-machine',
    'Order status changes go through the order state machine (orders/state.ts); direct updates of the status column are rejected by a check in the repository layer.',
  ],

  // Incidents
  [
    'incidents/2024-03-upstream-timeout',
    'March 2024: the tax-rate API stopped answering without closing connections, and workers without timeouts piled up for 20 minutes. Fix: timeouts on every outbound call.',
  ],
  [
    'incidents/2024-06-cache-stampede',
    'June 2024: a deploy during peak traffic emptied the product page cache and the database hit 100% CPU for 12 minutes. Fix: lock-and-serve-stale recomputation.',
  ],
  [
    'incidents/2024-09-double-charges',
    'September 2024: a mobile client retried payment requests on timeout and 37 customers were charged twice. Fix: mandatory idempotency keys on payment endpoints.',
  ],
  [
    'incidents/2024-11-disk-full-logs',
    'November 2024: debug logging left on after an investigation filled the log volume of the worker nodes and jobs stopped. Fix: 3-day log retention on nodes and an alert at 80% disk.',
  ],
  [
    'incidents/2025-01-expired-certificate',
    'January 2025: the certificate of the FTP bridge to the warehouse expired and orders stopped syncing for 6 hours. Fix: expiry alerts 21 days ahead for every certificate.',
  ],
  [
    'incidents/2025-02-migration-lock',
    'February 2025: a migration adding a column with a default to orders waited on a lock and blocked checkouts for 4 minutes. Fix: lock_timeout in all migrations.',
  ],
  [
    'incidents/2025-04-dns-ttl',
    'April 2025: a DNS change with a 24-hour TTL left half the customers on the old load balancer after the switch. Fix: lower TTLs to 60 s a day before any migration.',
  ],
  [
    'incidents/2025-05-queue-backlog',
    'May 2025: a bulk export flooded the shared queue and password reset emails waited 40 minutes. Fix: separate critical and batch queues.',
  ],

  // Process and people
  [
    'notes/team/ownership-map',
    'Ownership: payments and billing belong to team Ledger, search and catalog to team Discovery, auth to team Identity, infrastructure to team Platform.',
  ],
  [
    'notes/process/incident-severity',
    'SEV1 means checkout or login is down for everyone, SEV2 means a major feature is degraded, SEV3 is everything else. SEV1 and SEV2 need a written postmortem within five working days.',
  ],
  [
    'notes/process/postmortem-template',
    'Postmortems are blameless and follow docs/postmortem.md: timeline, impact, root cause, what went well, and action items with owners.',
  ],
  [
    'notes/process/rfc-process',
    "Changes that affect more than one team start as an RFC in docs/rfcs and need sign-off from each affected team's tech lead before implementation.",
  ],
  [
    'notes/onboarding/first-week',
    'New engineers ship a small fix in their first week, reviewed by their buddy. Access requests go through the #it-help form, not direct messages.',
  ],
  [
    'notes/process/support-escalation',
    'Support escalates to engineering in #support-escalations with a ticket link; the triage rotation answers within one business hour.',
  ],
  [
    'notes/process/estimation',
    'We estimate in t-shirt sizes, not story points; anything larger than L must be split before it enters a sprint.',
  ],
  [
    'runbooks/web/high-error-rate',
    'For a spike in 5xx responses: check the API overview dashboard, look for a deploy in the last hour and roll it back first; investigate afterwards.',
  ],
  [
    'runbooks/support/impersonate-user',
    'Support can view the app as a customer with Admin → Users → View as. It is read-only, and every session is recorded in the audit log.',
  ],
  [
    'notes/catalog/sku-format',
    'SKUs are <brand>-<model>-<size> in uppercase, e.g. ACM-TRAIL2-XL; the warehouse system rejects lowercase SKUs.',
  ],
  [
    'notes/warehouse/ftp-bridge',
    'The warehouse still exchanges orders and stock levels as CSV files over FTPS every five minutes through the legacy bridge VM.',
  ],
  [
    'notes/staging/refresh',
    'Staging is refreshed from an anonymised production snapshot every Sunday night; anything created in staging during the week is lost.',
  ],

  // Structured values
  [
    'config/auth/token-ttl',
    {
      access_token_ttl_seconds: 900,
      refresh_token_ttl_days: 30,
      why: 'short-lived access tokens limit the damage of a leaked token',
    },
  ],
  ['config/api/timeouts', { default_ms: 5000, payments_ms: 15000, gateway_ms: 60000 }],
  [
    'config/db/pool',
    { max_connections_per_pod: 10, pgbouncer_pool_size: 200, note: 'RDS max_connections is 1000' },
  ],
  ['config/checkout/limits', { max_items_per_order: 100, max_quantity_per_item: 20 }],
  ['config/search/settings', { min_query_length: 2, typeahead_debounce_ms: 150, results_per_page: 24 }],
  [
    'config/upload/limits',
    {
      max_image_mb: 20,
      allowed_types: ['image/jpeg', 'image/png', 'image/webp'],
      presigned_url_ttl_seconds: 300,
    },
  ],
  ['config/jobs/retries', { max_attempts: 5, backoff: 'exponential', base_delay_seconds: 30 }],
  [
    'config/redis/instances',
    {
      cache: 'redis-cache.internal:6379',
      sessions: 'redis-sessions.internal:6379',
      rate_limits: 'redis-cache.internal:6379 db 2',
    },
  ],
  ['config/feature-flags/defaults', { 'checkout-v2': false, 'new-search-ranking': true, 'dark-mode': true }],
  [
    'config/email/senders',
    { transactional: 'orders@acme.com', marketing: 'news@mail.acme.com', support: 'help@acme.com' },
  ],

  // Open work
  [
    'todo/remove-graphql-feed',
    'Move the mobile feed off GraphQL so the endpoint can be deleted; blocked on the mobile release in Q3.',
  ],
  [
    'todo/migrate-legacy-invoices-timestamps',
    'Convert invoices.issued_at to timestamptz with an expand/contract migration; needs finance sign-off for historic reports.',
  ],
  [
    'todo/replace-ftp-bridge',
    "Replace the FTP bridge with the warehouse's new REST API once it supports stock webhooks.",
  ],
  [
    'todo/cache-warmup-automation',
    'Run the cache warm-up automatically after deploys instead of by hand before sales.',
  ],
  [
    'todo/upgrade-postgres-17',
    'Upgrade RDS from Postgres 15 to 17 with a blue/green deployment; test the unaccent and pg_trgm extensions first.',
  ],
]

/** Per-service facts, the kind of memory an agent writes on its first day in a repo. */
const SERVICES: Array<{
  name: string
  team: string
  lead: string
  channel: string
  stack: string
  path: string
  deps: string
}> = [
  {
    name: 'api',
    team: 'Platform',
    lead: 'Jonas Weber',
    channel: '#platform-oncall',
    stack: 'TypeScript on Node 22 with Fastify',
    path: 'apps/api',
    deps: 'Postgres, Redis and SQS',
  },
  {
    name: 'web',
    team: 'Storefront',
    lead: 'Amara Okafor',
    channel: '#storefront-oncall',
    stack: 'Next.js with React Server Components',
    path: 'apps/web',
    deps: 'the api and the CDN',
  },
  {
    name: 'checkout',
    team: 'Ledger',
    lead: 'Priya Raman',
    channel: '#ledger-oncall',
    stack: 'a TypeScript module inside the api',
    path: 'apps/api/src/checkout',
    deps: 'billing, Stripe and the shipping-rates provider',
  },
  {
    name: 'billing',
    team: 'Ledger',
    lead: 'Priya Raman',
    channel: '#ledger-oncall',
    stack: 'a TypeScript module inside the api',
    path: 'apps/api/src/billing',
    deps: 'Stripe, TaxJar and Postgres',
  },
  {
    name: 'search',
    team: 'Discovery',
    lead: 'Lena Fischer',
    channel: '#discovery-oncall',
    stack: 'TypeScript, a separate deployment',
    path: 'apps/search',
    deps: 'Postgres full-text search on a replica',
  },
  {
    name: 'catalog',
    team: 'Discovery',
    lead: 'Lena Fischer',
    channel: '#discovery-oncall',
    stack: 'a TypeScript module inside the api',
    path: 'apps/api/src/catalog',
    deps: 'Postgres and the image worker',
  },
  {
    name: 'auth',
    team: 'Identity',
    lead: 'Mateo Silva',
    channel: '#identity-oncall',
    stack: 'a TypeScript module inside the api',
    path: 'apps/api/src/auth',
    deps: 'WorkOS and the sessions Redis',
  },
  {
    name: 'notifications',
    team: 'Engagement',
    lead: 'Hana Sato',
    channel: '#engagement-oncall',
    stack: 'a TypeScript worker',
    path: 'apps/notifications',
    deps: 'SendGrid, Firebase Cloud Messaging and SQS',
  },
  {
    name: 'image-worker',
    team: 'Platform',
    lead: 'Jonas Weber',
    channel: '#platform-oncall',
    stack: 'Go',
    path: 'services/image-worker',
    deps: 'S3, imgproxy and SQS',
  },
  {
    name: 'warehouse-bridge',
    team: 'Fulfilment',
    lead: 'Oskar Nilsson',
    channel: '#fulfilment-oncall',
    stack: 'Python 3.9 on a legacy VM',
    path: 'services/warehouse-bridge',
    deps: 'the warehouse FTPS server and the api',
  },
  {
    name: 'admin',
    team: 'Internal Tools',
    lead: 'Grace Lin',
    channel: '#internal-tools',
    stack: 'React on top of a legacy Rails app',
    path: 'apps/admin',
    deps: 'the api',
  },
  {
    name: 'mobile-bff',
    team: 'Mobile',
    lead: 'Yusuf Demir',
    channel: '#mobile-oncall',
    stack: 'TypeScript with GraphQL Yoga',
    path: 'apps/mobile-bff',
    deps: 'the api and GraphQL',
  },
]

function serviceFacts(): Array<[string, JsonValue]> {
  return SERVICES.flatMap((s) => [
    [`services/${s.name}/owner`, `Team ${s.team} owns the ${s.name} service; ${s.lead} is the tech lead.`],
    [
      `services/${s.name}/oncall`,
      `Pages for ${s.name} go to the ${s.team} on-call rotation; coordinate in ${s.channel}.`,
    ],
    [`services/${s.name}/stack`, `${s.name} is written in ${s.stack}.`],
    [`services/${s.name}/code-location`, `The ${s.name} code lives in ${s.path} in the monorepo.`],
    [
      `services/${s.name}/dependencies`,
      `${s.name} depends on ${s.deps}; when one of them is down, read its runbook before touching ${s.name}.`,
    ],
  ])
}

export const CORPUS: CorpusEntry[] = [...NOTES, ...serviceFacts()].map(([key, value]) => ({ key, value }))

export type QueryKind =
  | 'exact'
  | 'stemming'
  | 'paraphrase'
  | 'key-only'
  | 'multi-word'
  | 'no-substring'
  | 'identifier'
  | 'json-field'
  | 'synonym'

/** A query and the corpus keys that answer it (1-3). */
export interface LabelledQuery {
  query: string
  relevant: string[]
  kind: QueryKind
}

export const QUERIES: LabelledQuery[] = [
  // Words as written.
  { query: 'argon2id', relevant: ['decisions/auth/password-hashing-argon2id'], kind: 'exact' },
  { query: 'token not yet valid', relevant: ['gotchas/auth/jwt-clock-skew'], kind: 'exact' },
  { query: 'expand and contract', relevant: ['conventions/db/migrations-expand-contract'], kind: 'exact' },
  { query: 'replica lag', relevant: ['gotchas/db/replica-lag-read-your-writes'], kind: 'exact' },
  { query: 'VAT rounding', relevant: ['notes/billing/vat-rounding-per-line'], kind: 'exact' },
  {
    query: 'circuit breaker',
    relevant: ['decisions/reliability/circuit-breaker-shipping-rates'],
    kind: 'exact',
  },
  { query: 'canary', relevant: ['notes/deploy/canary-analysis'], kind: 'exact' },
  {
    query: 'elasticsearch',
    relevant: ['decisions/search/postgres-fts-first', 'notes/search/elasticsearch-evaluation'],
    kind: 'exact',
  },
  { query: 'hydration mismatch', relevant: ['gotchas/frontend/hydration-mismatch-dates'], kind: 'exact' },
  {
    query: 'cache stampede',
    relevant: ['gotchas/cache/stampede-after-deploy', 'incidents/2024-06-cache-stampede'],
    kind: 'exact',
  },
  {
    query: 'pnpm',
    relevant: ['decisions/tooling/pnpm-workspaces', 'gotchas/ci/pnpm-store-cache'],
    kind: 'exact',
  },
  { query: 'pagination', relevant: ['decisions/api/cursor-pagination'], kind: 'exact' },

  // Inflections: the query and the memory use different forms of a word.
  {
    query: 'caching product pages',
    relevant: ['decisions/caching/product-pages-redis', 'gotchas/cache/cache-key-missing-currency'],
    kind: 'stemming',
  },
  { query: 'rotate JWT keys', relevant: ['decisions/auth/jwt-signing-key-rotation'], kind: 'stemming' },
  { query: 'refund', relevant: ['runbooks/payments/refund-charge'], kind: 'stemming' },
  { query: 'invoice number gaps', relevant: ['notes/billing/invoice-numbering-gapless'], kind: 'stemming' },
  {
    query: 'failed subscription payment retries',
    relevant: ['decisions/billing/dunning-schedule'],
    kind: 'stemming',
  },
  {
    query: 'webhook retries',
    relevant: [
      'decisions/integrations/webhook-retry-backoff',
      'runbooks/integrations/replay-parked-webhooks',
    ],
    kind: 'stemming',
  },
  { query: 'deploy on friday', relevant: ['gotchas/deploy/friday-freeze'], kind: 'stemming' },
  {
    query: 'rate limiting',
    relevant: [
      'decisions/security/login-rate-limit',
      'notes/api/public-api-rate-limits',
      'gotchas/security/client-ip-behind-load-balancer',
    ],
    kind: 'stemming',
  },
  { query: 'GDPR deletion', relevant: ['decisions/privacy/gdpr-soft-delete'], kind: 'stemming' },
  { query: 'websocket', relevant: ['decisions/notifications/sse-over-websockets'], kind: 'stemming' },
  { query: 'NAT gateway cost', relevant: ['gotchas/infra/nat-gateway-costs'], kind: 'stemming' },
  {
    query: 'certificate expired',
    relevant: ['incidents/2025-01-expired-certificate', 'gotchas/infra/tls-cert-renewal-internal'],
    kind: 'stemming',
  },

  // The deciding word is only in the key.
  { query: 'redis failover', relevant: ['runbooks/redis/failover'], kind: 'key-only' },
  { query: 'kill a long running query', relevant: ['runbooks/db/kill-long-running-query'], kind: 'key-only' },
  {
    query: 'prometheus cardinality',
    relevant: ['gotchas/metrics/high-cardinality-labels'],
    kind: 'key-only',
  },
  { query: 'leaked secret', relevant: ['runbooks/security/leaked-secret'], kind: 'key-only' },
  { query: 'umlauts in search', relevant: ['gotchas/search/unaccent-umlauts'], kind: 'key-only' },
  { query: 'safari date parsing', relevant: ['gotchas/frontend/safari-date-parsing'], kind: 'key-only' },
  {
    query: 'DST',
    relevant: ['gotchas/time/dst-weekly-reports', 'gotchas/time/cron-dst-gap'],
    kind: 'key-only',
  },
  { query: 'search service on-call channel', relevant: ['services/search/oncall'], kind: 'key-only' },

  // Several words, not as one phrase in the memory.
  { query: 'api token storage', relevant: ['decisions/auth/api-token-sha256'], kind: 'multi-word' },
  {
    query: 'reset a user password',
    relevant: ['runbooks/auth/reset-user-password', 'gotchas/auth/reset-link-expiry'],
    kind: 'multi-word',
  },
  {
    query: 'prepared statements pgbouncer',
    relevant: ['notes/db/pgbouncer-transaction-mode'],
    kind: 'multi-word',
  },
  {
    query: 'restore database backup',
    relevant: ['runbooks/db/restore-from-backup', 'decisions/db/encrypted-backups-age'],
    kind: 'multi-word',
  },
  {
    query: 'money floating point',
    relevant: ['decisions/billing/money-integer-cents', 'gotchas/frontend/float-arithmetic-prices'],
    kind: 'multi-word',
  },
  {
    query: 'stripe events arrive out of order',
    relevant: ['gotchas/payments/stripe-webhooks-out-of-order'],
    kind: 'multi-word',
  },
  {
    query: 'exponential backoff',
    relevant: ['decisions/integrations/webhook-retry-backoff', 'config/jobs/retries'],
    kind: 'multi-word',
  },
  {
    query: 'webhook signature verification fails',
    relevant: ['gotchas/integrations/webhook-signature-raw-body'],
    kind: 'multi-word',
  },
  {
    query: 'outbound http timeout',
    relevant: [
      'decisions/reliability/timeouts-everywhere',
      'config/api/timeouts',
      'incidents/2024-03-upstream-timeout',
    ],
    kind: 'multi-word',
  },
  {
    query: 'find logs for a request id',
    relevant: [
      'runbooks/observability/trace-for-request',
      'notes/api/request-id',
      'conventions/logging/structured-json',
    ],
    kind: 'multi-word',
  },
  {
    query: 'feature flags vs environment variables',
    relevant: ['decisions/flags/launchdarkly-not-env-vars'],
    kind: 'multi-word',
  },
  {
    query: 'emails not delivered on staging',
    relevant: ['gotchas/email/staging-sandbox'],
    kind: 'multi-word',
  },
  { query: 'which node version', relevant: ['gotchas/tooling/node-version'], kind: 'multi-word' },
  {
    query: 'integration tests database',
    relevant: ['conventions/testing/real-postgres', 'gotchas/ci/parallel-tests-shared-db'],
    kind: 'multi-word',
  },
  { query: 'terraform apply', relevant: ['notes/infra/terraform-state'], kind: 'multi-word' },
  { query: 'message processed twice', relevant: ['gotchas/jobs/sqs-visibility-timeout'], kind: 'multi-word' },
  {
    query: 'who owns the billing service',
    relevant: ['services/billing/owner', 'notes/team/ownership-map'],
    kind: 'multi-word',
  },
  {
    query: 'orders stuck in pending',
    relevant: ['runbooks/checkout/orders-stuck-pending'],
    kind: 'multi-word',
  },
  { query: 'ssh into production', relevant: ['runbooks/infra/ssh-access'], kind: 'multi-word' },
  {
    query: 'postmortem',
    relevant: ['notes/process/postmortem-template', 'notes/process/incident-severity'],
    kind: 'multi-word',
  },
  { query: 'error response format', relevant: ['conventions/api/error-format'], kind: 'multi-word' },

  // The exact query string appears nowhere in the corpus (checked by the bench).
  {
    query: 'how do we hash passwords',
    relevant: ['decisions/auth/password-hashing-argon2id'],
    kind: 'no-substring',
  },

  // Different words for the same thing: lexical search is expected to struggle.
  { query: 'SAML single sign-on', relevant: ['notes/auth/sso-saml'], kind: 'paraphrase' },
  { query: 'cookie flags', relevant: ['decisions/auth/session-cookies'], kind: 'paraphrase' },
  {
    query: 'migration blocked checkout',
    relevant: ['gotchas/db/alter-table-lock-timeout', 'incidents/2025-02-migration-lock'],
    kind: 'paraphrase',
  },
  {
    query: 'primary key type for new tables',
    relevant: ['decisions/db/uuidv7-primary-keys'],
    kind: 'paraphrase',
  },
  {
    query: 'n+1 queries',
    relevant: ['gotchas/db/orm-n-plus-one-orders', 'notes/perf/n-plus-one-detection'],
    kind: 'paraphrase',
  },
  {
    query: 'customer charged twice',
    relevant: ['decisions/payments/idempotency-keys', 'incidents/2024-09-double-charges'],
    kind: 'paraphrase',
  },
  {
    query: 'distributed tracing',
    relevant: ['decisions/observability/opentelemetry-tracing'],
    kind: 'paraphrase',
  },
  { query: 'personal data in logs', relevant: ['gotchas/logging/pii-in-logs'], kind: 'paraphrase' },
  {
    query: 'roll back a bad release',
    relevant: ['runbooks/deploy/rollback', 'decisions/deploy/blue-green-kubernetes'],
    kind: 'paraphrase',
  },
  {
    query: 'config map change not applied',
    relevant: ['gotchas/deploy/env-var-change-needs-restart'],
    kind: 'paraphrase',
  },
  {
    query: 'turn off the new checkout',
    relevant: ['runbooks/flags/checkout-kill-switch'],
    kind: 'paraphrase',
  },
  {
    query: 'brute force login protection',
    relevant: ['decisions/security/login-rate-limit', 'runbooks/auth/unlock-locked-account'],
    kind: 'paraphrase',
  },
  { query: 'tenant isolation', relevant: ['decisions/security/row-level-security'], kind: 'paraphrase' },
  {
    query: 'cron job running twice',
    relevant: ['decisions/jobs/advisory-locks-scheduler', 'gotchas/k8s/cronjob-concurrency'],
    kind: 'paraphrase',
  },
  { query: 'big sale preparation', relevant: ['runbooks/infra/scale-up-for-sale'], kind: 'paraphrase' },

  // Other words for the same thing, at most one shared (sign-in): a floor for lexical search.
  { query: 'disaster recovery drill', relevant: ['runbooks/db/restore-from-backup'], kind: 'synonym' },
  {
    query: 'avoid duplicate payments',
    relevant: ['decisions/payments/idempotency-keys', 'incidents/2024-09-double-charges'],
    kind: 'synonym',
  },
  { query: 'sign-in throttling', relevant: ['decisions/security/login-rate-limit'], kind: 'synonym' },
  { query: 'mail ends up as junk', relevant: ['gotchas/email/dkim-new-domain'], kind: 'synonym' },

  // Identifiers as a developer would paste them.
  {
    query: 'lock_timeout',
    relevant: ['gotchas/db/alter-table-lock-timeout', 'incidents/2025-02-migration-lock'],
    kind: 'identifier',
  },
  {
    query: 'X-Forwarded-For',
    relevant: ['gotchas/security/client-ip-behind-load-balancer'],
    kind: 'identifier',
  },
  { query: 'OOMKilled', relevant: ['gotchas/k8s/node-heap-oomkilled'], kind: 'identifier' },
  { query: 'NODE_OPTIONS', relevant: ['gotchas/k8s/node-heap-oomkilled'], kind: 'identifier' },
  { query: 'getOrLock', relevant: ['gotchas/cache/stampede-after-deploy'], kind: 'identifier' },

  // Answered by a structured value's field names and numbers.
  { query: 'access token lifetime', relevant: ['config/auth/token-ttl'], kind: 'json-field' },
  { query: 'max image upload size', relevant: ['config/upload/limits'], kind: 'json-field' },
  { query: 'connection pool size', relevant: ['config/db/pool'], kind: 'json-field' },
]

// ---------------------------------------------------------------------------------------------------------------
// Noise: memories nobody asks about, written from the same vocabulary.
// ---------------------------------------------------------------------------------------------------------------

const KINDS = ['notes', 'notes', 'notes', 'decisions', 'runbooks', 'gotchas', 'log', 'meetings', 'todo']
const AREAS = (
  'api web mobile billing payments checkout search catalog auth infra db jobs email notifications frontend ' +
  'observability deploy security privacy data analytics support warehouse admin tooling ci perf redis queues'
).split(' ')
const VERBS = (
  'use adopt prefer keep move split merge replace document deprecate rename inline expose wrap revisit simplify ' +
  'centralise standardise measure monitor test review own extract consolidate'
).split(' ')
const ADJECTIVES = (
  'async stale fresh shared local global remote internal external legacy modern strict lenient fast slow ' +
  'durable ephemeral typed nullable immutable central regional nightly weekly manual automatic optional ' +
  'secondary read-only write-heavy cold hot small large simple explicit implicit dedicated separate common'
).split(' ')
const GENERIC = (
  'service team module client handler config settings layer boundary interface adapter library dependency ' +
  'version component function class method type field value object array map entity model domain context state ' +
  'process thread pool connection protocol header format file directory path script command tool plugin build ' +
  'pipeline task step stage phase environment cluster node container region zone network host port worker ' +
  'runtime memory disk cpu budget cost owner reviewer developer customer user account product order report ' +
  'dashboard metric alert error exception fallback default request response endpoint data list key job package ' +
  'store table column index query release feature test fixture mock latency throughput incident ' +
  'outage rollout experiment template admin console backend frontend mobile browser server gateway proxy ' +
  'router middleware schema record event message consumer producer topic partition batch stream window ' +
  'snapshot archive policy role permission scope audit license vendor contract estimate deadline roadmap ' +
  'milestone ticket document guideline convention standard naming layout style'
).split(' ')
/** The corpus's topic words: each shows up in a few percent of the noise, as it would in a real store. */
const TOPIC = (
  'password hashing hash token tokens cache caching cached redis cdn invalidation lock locks scheduler cron ' +
  'tracing trace span webhook webhooks retry retries backoff jitter pagination cursor offset money cents ' +
  'currency invoice float timestamp timezone utc flag flags toggle login rate limit throttle idempotency ' +
  'payment charge refund delete purge gdpr retention migration migrations deploy deployment validation ' +
  'websocket notification encrypt backup restore vault uuid monorepo workspace lockfile logging logs json ' +
  'upload presigned bucket s3 image cookie session csrf search email outbox circuit breaker shipping ' +
  'kubernetes tenant security replica reporting jwt signing rotation keys secrets stripe sqs queue timeout ' +
  'certificate canary rollback freeze postmortem owner oncall terraform pgbouncer vacuum'
).split(' ')
const TEAMS = 'Platform Storefront Ledger Discovery Identity Engagement Fulfilment Mobile'.split(' ')

/**
 * `count` noise memories with keys like `notes/billing/review-stale-pool-4f2` (never a corpus key): 1-4 sentences
 * of engineering prose, one in ten a small JSON object. Deterministic for a seed.
 */
export function noiseMemories(count: number, seed = 7): CorpusEntry[] {
  const random = prng(seed)
  const pick = <T>(words: T[]) => words[Math.floor(random() * words.length)]!
  const cap = (word: string) => word[0]!.toUpperCase() + word.slice(1)
  const out: CorpusEntry[] = []
  for (let i = 0; i < count; i++) {
    const used = new Set<string>()
    const noun = (): string => {
      for (;;) {
        const word = pick(random() < 0.08 ? TOPIC : GENERIC)
        if (!used.has(word)) {
          used.add(word)
          return word
        }
      }
    }
    const sentences = [
      () =>
        `We ${pick(VERBS)} the ${noun()} ${noun()} because the ${noun()} was ${pick(ADJECTIVES)} under load.`,
      () =>
        `The ${noun()} team measured ${noun()} ${noun()} and chose to ${pick(VERBS)} the ${pick(ADJECTIVES)} ${noun()}.`,
      () => `Alternatives considered: ${noun()} ${noun()}, a ${pick(ADJECTIVES)} ${noun()} and ${noun()}.`,
      () =>
        `This affects ${noun()}, ${noun()} and the ${noun()} ${noun()}; revisit when the ${noun()} changes.`,
      () => `${cap(pick(ADJECTIVES))} ${noun()} for ${noun()} clients means more ${noun()} in the ${noun()}.`,
      () => `Owners of the ${noun()} ${noun()} must ${pick(VERBS)} the ${noun()} before the next ${noun()}.`,
      () =>
        `If the ${noun()} ${noun()} fails, ${pick(VERBS)} the ${noun()} and check the ${noun()} ${noun()}.`,
      () =>
        `${cap(noun())} ${noun()} takes about ${1 + Math.floor(random() * 59)} minutes on the ${pick(ADJECTIVES)} ${noun()}.`,
    ]
    const slug = `${pick(VERBS)}-${pick(ADJECTIVES)}-${noun()}-${i.toString(36)}`
    const key = `${pick(KINDS)}/${pick(AREAS)}/${slug}`
    const text = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(sentences)()).join(' ')
    const value: JsonValue =
      random() < 0.1
        ? { note: text, owner: pick(TEAMS), [`${noun()}_limit`]: Math.floor(random() * 1000) }
        : text
    out.push({ key, value })
  }
  return out
}
