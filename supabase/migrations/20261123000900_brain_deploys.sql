-- dstack brain: deploys, so every `dstack deploy` (and rollback) leaves its outcome where the team and its agents
-- can read it: what went where, from which release, how it ended and why.
--
-- Append-only: a deploy that is retried or rolled back later is a new row, never an edit of the old one. A service
-- can be deployed from outside any repository the brain knows, so repo_id may be null (and is cleared when its
-- repository is deleted: the log outlives it). steps: [{"id", "status", "duration_ms"}, ...] in the order they ran.

create table if not exists dstack.deploys (
  id uuid primary key default gen_random_uuid(),
  agent_id text not null references dstack.agents (id) on delete restrict,
  repo_id uuid references dstack.repos (id) on delete set null,
  service text not null check (char_length(service) between 1 and 200),
  target text not null check (char_length(target) between 1 and 500),
  release text not null check (char_length(release) between 1 and 200),
  previous_release text check (previous_release is null or char_length(previous_release) between 1 and 200),
  outcome text not null check (outcome in ('deployed', 'rolled-back', 'aborted', 'failed', 'refused')),
  reason text check (reason is null or char_length(reason) <= 20000),
  duration_ms integer not null check (duration_ms >= 0),
  steps jsonb not null default '[]' check (jsonb_typeof(steps) = 'array' and octet_length(steps::text) <= 1048576),
  started_at timestamptz not null,
  finished_at timestamptz not null default now()
);
create index if not exists deploys_service_finished_idx on dstack.deploys (service, finished_at desc);
create index if not exists deploys_repo_finished_idx on dstack.deploys (repo_id, finished_at desc);

create or replace trigger deploys_append_only before update or delete on dstack.deploys
  for each row execute function dstack.forbid_mutation();

do $$
begin
  alter table dstack.deploys enable row level security;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    return;
  end if;
  execute 'grant select, insert on dstack.deploys to authenticated';
  drop policy if exists team_read on dstack.deploys;
  drop policy if exists own_insert on dstack.deploys;
  create policy team_read on dstack.deploys for select to authenticated using (true);
  create policy own_insert on dstack.deploys for insert to authenticated
    with check (agent_id = dstack.current_agent());
end
$$;
