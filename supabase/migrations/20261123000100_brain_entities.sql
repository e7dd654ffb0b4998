-- dstack brain: first-class entities and the junction tables that connect them.
--
-- Every statement here is idempotent (`if not exists`, `create or replace`), so this file can be applied by
-- `dstack brain migrate` (which tracks checksums in dstack.schema_migrations) and by `supabase db push`
-- (which tracks in supabase_migrations) against the same database without harm.
--
-- All objects live in the `dstack` schema so a team's existing Supabase project keeps its own `public` tables.

create schema if not exists dstack;

-- Keeps updated_at honest without trusting every writer to set it.
create or replace function dstack.touch_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Entities
-- ---------------------------------------------------------------------------------------------------------------

-- One row per teammate (a person, with all of their agent sessions). The handle is the attribution key.
create table if not exists dstack.agents (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  display_name text not null check (length(display_name) between 1 and 200),
  email text check (email is null or email ~ '^[^@\s]+@[^@\s]+$'),
  created_at timestamptz not null default now()
);

-- One row per repository, keyed by its canonical remote (host/org/name) or local:<path>.
create table if not exists dstack.repos (
  id uuid primary key default gen_random_uuid(),
  canonical text not null unique check (length(canonical) between 1 and 500),
  default_branch text not null default 'main',
  created_at timestamptz not null default now()
);

-- Domain tags per repo (auth, billing, ...): the cross-cutting query axis.
create table if not exists dstack.features (
  id uuid primary key default gen_random_uuid(),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9._/-]{0,99}$'),
  description text,
  created_at timestamptz not null default now(),
  unique (repo_id, name)
);

-- Every file an agent has touched, by repo-relative path.
create table if not exists dstack.files (
  id uuid primary key default gen_random_uuid(),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  path text not null check (length(path) between 1 and 4096 and path !~ '^/'),
  last_seen_at timestamptz not null default now(),
  unique (repo_id, path)
);

create table if not exists dstack.branches (
  id uuid primary key default gen_random_uuid(),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  name text not null check (length(name) between 1 and 255),
  base text not null default 'main',
  created_at timestamptz not null default now(),
  unique (repo_id, name)
);

-- What an agent is doing on a branch: the payload of conflict awareness.
create table if not exists dstack.intents (
  id uuid primary key default gen_random_uuid(),
  agent_id text not null references dstack.agents (id) on delete restrict,
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  branch_id uuid references dstack.branches (id) on delete set null,
  session_id text,
  title text not null check (length(title) between 1 and 300),
  body text,
  promises text,
  not_touching text[] not null default '{}',
  status text not null default 'active' check (status in ('active', 'paused', 'shipped', 'abandoned')),
  inferred boolean not null default false,
  pr_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  shipped_at timestamptz,
  search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', coalesce(body, '') || ' ' || coalesce(promises, '')), 'B')
  ) stored
);
create index if not exists intents_agent_status_idx on dstack.intents (agent_id, status);
create index if not exists intents_repo_status_idx on dstack.intents (repo_id, status);
create index if not exists intents_branch_idx on dstack.intents (branch_id);
create index if not exists intents_search_idx on dstack.intents using gin (search);

-- Append-only log of who touched what, when (enforced by a trigger in the functions migration).
-- hunks: [[first_line, last_line], ...] in the file as written, for hunk-level conflict checks.
create table if not exists dstack.edits (
  id uuid primary key default gen_random_uuid(),
  agent_id text not null references dstack.agents (id) on delete restrict,
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  file_id uuid not null references dstack.files (id) on delete cascade,
  intent_id uuid references dstack.intents (id),
  branch_id uuid references dstack.branches (id),
  session_id text,
  op text not null check (op in ('edit', 'write', 'create', 'delete', 'rename', 'notebook')),
  tool text,
  summary text,
  hunks jsonb not null default '[]' check (jsonb_typeof(hunks) = 'array'),
  created_at timestamptz not null default now()
);
create index if not exists edits_file_created_idx on dstack.edits (file_id, created_at desc);
create index if not exists edits_intent_idx on dstack.edits (intent_id);
create index if not exists edits_agent_created_idx on dstack.edits (agent_id, created_at desc);
create index if not exists edits_repo_created_idx on dstack.edits (repo_id, created_at desc);

-- ADRs as compiled truth: title/body/status are the current understanding, rewritten when evidence changes.
-- The evidence trail lives in decision_events (append-only); every rewrite is snapshotted in decision_versions.
create table if not exists dstack.decisions (
  id uuid primary key default gen_random_uuid(),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  number integer not null check (number > 0),
  title text not null check (length(title) between 1 and 300),
  body text not null,
  status text not null default 'accepted' check (status in ('proposed', 'accepted', 'superseded', 'deprecated')),
  superseded_by uuid references dstack.decisions (id) on delete set null,
  authored_by text not null references dstack.agents (id) on delete restrict,
  updated_by text references dstack.agents (id) on delete set null,
  source text not null default 'manual' check (source in ('manual', 'infer', 'import')),
  version integer not null default 1 check (version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
  ) stored,
  unique (repo_id, number),
  check (superseded_by is distinct from id),
  check (superseded_by is null or status = 'superseded')
);
create index if not exists decisions_repo_created_idx on dstack.decisions (repo_id, created_at desc);
create index if not exists decisions_search_idx on dstack.decisions using gin (search);

-- Per-repo ADR counter: next_decision_number() increments it under a row lock, so numbers never race.
create table if not exists dstack.decision_counters (
  repo_id uuid primary key references dstack.repos (id) on delete cascade,
  last_number integer not null check (last_number >= 0)
);

-- The timeline: append-only events that explain how a decision's compiled truth came to be.
create table if not exists dstack.decision_events (
  id uuid primary key default gen_random_uuid(),
  decision_id uuid not null references dstack.decisions (id) on delete cascade,
  agent_id text not null references dstack.agents (id) on delete restrict,
  kind text not null check (
    kind in ('authored', 'revised', 'status_changed', 'superseded', 'supersedes', 'linked', 'evidence', 'comment')
  ),
  summary text not null check (length(summary) between 1 and 2000),
  detail jsonb not null default '{}' check (jsonb_typeof(detail) = 'object'),
  source text,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index if not exists decision_events_decision_idx on dstack.decision_events (decision_id, occurred_at);

-- Snapshot of each previous version of a decision, written by a trigger on every rewrite.
create table if not exists dstack.decision_versions (
  decision_id uuid not null references dstack.decisions (id) on delete cascade,
  version integer not null check (version > 0),
  title text not null,
  body text not null,
  status text not null,
  superseded_by uuid,
  written_by text,
  written_at timestamptz not null,
  snapshot_at timestamptz not null default now(),
  primary key (decision_id, version)
);

-- Session-end notes: cross-session and cross-agent continuity.
create table if not exists dstack.handoffs (
  id uuid primary key default gen_random_uuid(),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  intent_id uuid references dstack.intents (id) on delete set null,
  from_agent text not null references dstack.agents (id) on delete restrict,
  to_agent text references dstack.agents (id) on delete set null,
  session_id text,
  branch_name text,
  note text not null check (length(note) between 1 and 20000),
  blocker text,
  next_step text,
  uncommitted_files text[] not null default '{}',
  status text not null default 'open' check (status in ('open', 'picked_up', 'resolved', 'expired')),
  auto_generated boolean not null default false,
  created_at timestamptz not null default now(),
  picked_up_at timestamptz,
  picked_up_by text references dstack.agents (id) on delete set null,
  resolved_at timestamptz,
  resolved_by text references dstack.agents (id) on delete set null,
  search tsvector generated always as (
    setweight(to_tsvector('english', note), 'A') ||
    setweight(to_tsvector('english', coalesce(next_step, '') || ' ' || coalesce(blocker, '')), 'B')
  ) stored
);
create index if not exists handoffs_repo_status_idx on dstack.handoffs (repo_id, status, created_at desc);
create index if not exists handoffs_to_agent_status_idx on dstack.handoffs (to_agent, status);
create index if not exists handoffs_search_idx on dstack.handoffs using gin (search);

-- Live state, one row per (agent, session, repo): two sessions of one person (two worktrees, two terminals) in one
-- repo no longer overwrite each other. Rows older than the TTL are swept by expire_stale_presence().
create table if not exists dstack.presence (
  agent_id text not null references dstack.agents (id) on delete cascade,
  session_id text not null check (length(session_id) between 1 and 200),
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  branch_name text,
  intent_id uuid references dstack.intents (id) on delete set null,
  status text not null default 'idle' check (
    status in ('planning', 'coding', 'reviewing', 'shipping', 'browsing', 'idle', 'away')
  ),
  active_files text[] not null default '{}',
  machine text,
  started_at timestamptz not null default now(),
  last_heartbeat timestamptz not null default now(),
  primary key (agent_id, session_id, repo_id)
);
create index if not exists presence_repo_heartbeat_idx on dstack.presence (repo_id, last_heartbeat desc);

-- Memories for @dstack/memory's BrainProvider: one row per (workspace, key path).
-- state ranks CONFIRMED > INFERRED > UNCERTAIN > UNKNOWN; a guard trigger refuses a downgrade.
create table if not exists dstack.memories (
  workspace text not null check (workspace ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  key text not null check (length(key) between 1 and 1024),
  value jsonb not null,
  state text not null check (state in ('CONFIRMED', 'INFERRED', 'UNCERTAIN', 'UNKNOWN')),
  confidence real not null default 0.5 check (confidence >= 0 and confidence <= 1),
  agent_id text references dstack.agents (id) on delete set null,
  session_id text,
  repo text,
  branch text,
  commit_sha text,
  source text,
  supersedes text,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search tsvector generated always as (
    setweight(to_tsvector('simple', translate(key, './:_-', '     ')), 'A') ||
    setweight(jsonb_to_tsvector('english', value, '["string"]'), 'B')
  ) stored,
  primary key (workspace, key)
);
create index if not exists memories_search_idx on dstack.memories using gin (search);
create index if not exists memories_workspace_updated_idx on dstack.memories (workspace, updated_at desc);
create index if not exists memories_expires_idx on dstack.memories (expires_at) where expires_at is not null;

-- ---------------------------------------------------------------------------------------------------------------
-- Junctions (the graph edges). Each has a composite key and an index on its second column.
-- ---------------------------------------------------------------------------------------------------------------

create table if not exists dstack.file_features (
  file_id uuid not null references dstack.files (id) on delete cascade,
  feature_id uuid not null references dstack.features (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (file_id, feature_id)
);
create index if not exists file_features_feature_idx on dstack.file_features (feature_id);

create table if not exists dstack.decision_features (
  decision_id uuid not null references dstack.decisions (id) on delete cascade,
  feature_id uuid not null references dstack.features (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (decision_id, feature_id)
);
create index if not exists decision_features_feature_idx on dstack.decision_features (feature_id);

create table if not exists dstack.decision_files (
  decision_id uuid not null references dstack.decisions (id) on delete cascade,
  file_id uuid not null references dstack.files (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (decision_id, file_id)
);
create index if not exists decision_files_file_idx on dstack.decision_files (file_id);

create table if not exists dstack.intent_features (
  intent_id uuid not null references dstack.intents (id) on delete cascade,
  feature_id uuid not null references dstack.features (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (intent_id, feature_id)
);
create index if not exists intent_features_feature_idx on dstack.intent_features (feature_id);

create table if not exists dstack.intent_decisions (
  intent_id uuid not null references dstack.intents (id) on delete cascade,
  decision_id uuid not null references dstack.decisions (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (intent_id, decision_id)
);
create index if not exists intent_decisions_decision_idx on dstack.intent_decisions (decision_id);

-- Read by the type generator: a column whose comment starts with @generated may be omitted on insert.
comment on column dstack.decisions.number is '@generated: assigned by next_decision_number() when omitted';
