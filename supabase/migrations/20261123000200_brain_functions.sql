-- dstack brain: helper functions and the triggers that keep the data honest.
--
-- Custom SQLSTATEs (mapped to typed errors by @dstack/brain-schema):
--   DS001  append-only table: update/delete refused
--   DS002  immutable column changed
--   DS409  knowledge-state conflict: a lower state may not overwrite a higher one
--   DS422  invalid argument to a helper function

-- ---------------------------------------------------------------------------------------------------------------
-- Append-only tables
-- ---------------------------------------------------------------------------------------------------------------

-- Refuses update/delete. A delete is let through only inside a transaction that has set
-- `dstack.allow_purge = on` (set local), which is how retention and `brain reset` remove history on purpose.
create or replace function dstack.forbid_mutation() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('dstack.allow_purge', true) = 'on' then
    return old;
  end if;
  raise exception '%.% is append-only: % refused', tg_table_schema, tg_table_name, lower(tg_op)
    using errcode = 'DS001', hint = 'record a correction as a new row instead';
end
$$;

create or replace trigger edits_append_only before update or delete on dstack.edits
  for each row execute function dstack.forbid_mutation();
create or replace trigger decision_events_append_only before update or delete on dstack.decision_events
  for each row execute function dstack.forbid_mutation();
create or replace trigger decision_versions_append_only before update or delete on dstack.decision_versions
  for each row execute function dstack.forbid_mutation();

-- ---------------------------------------------------------------------------------------------------------------
-- get-or-create helpers: one statement each, so the id comes back even when another writer created the row first
-- ---------------------------------------------------------------------------------------------------------------

create or replace function dstack.upsert_repo(p_canonical text, p_default_branch text default null) returns uuid
language sql as $$
  insert into dstack.repos as r (canonical, default_branch)
  values (p_canonical, coalesce(p_default_branch, 'main'))
  on conflict (canonical) do update
    set default_branch = coalesce(p_default_branch, r.default_branch)
  returning r.id
$$;

create or replace function dstack.upsert_file(p_repo_id uuid, p_path text) returns uuid
language sql as $$
  insert into dstack.files as f (repo_id, path)
  values (p_repo_id, p_path)
  on conflict (repo_id, path) do update set last_seen_at = now()
  returning f.id
$$;

create or replace function dstack.upsert_branch(p_repo_id uuid, p_name text, p_base text default null) returns uuid
language sql as $$
  insert into dstack.branches as b (repo_id, name, base)
  values (p_repo_id, p_name, coalesce(p_base, 'main'))
  on conflict (repo_id, name) do update set base = coalesce(p_base, b.base)
  returning b.id
$$;

create or replace function dstack.upsert_feature(p_repo_id uuid, p_name text, p_description text default null)
returns uuid
language sql as $$
  insert into dstack.features as f (repo_id, name, description)
  values (p_repo_id, p_name, p_description)
  on conflict (repo_id, name) do update set description = coalesce(p_description, f.description)
  returning f.id
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Intents and handoffs: lifecycle timestamps follow status, whoever writes the row
-- ---------------------------------------------------------------------------------------------------------------

create or replace function dstack.intents_before_write() returns trigger
language plpgsql as $$
begin
  if tg_op = 'UPDATE' then
    new.updated_at := now();
  end if;
  if new.status = 'shipped' then
    new.shipped_at := coalesce(new.shipped_at, now());
  else
    new.shipped_at := null;
  end if;
  return new;
end
$$;

create or replace trigger intents_before_write before insert or update on dstack.intents
  for each row execute function dstack.intents_before_write();

create or replace function dstack.handoffs_before_update() returns trigger
language plpgsql as $$
begin
  if new.status = 'picked_up' and old.status <> 'picked_up' then
    new.picked_up_at := coalesce(new.picked_up_at, now());
  end if;
  if new.status = 'resolved' and old.status <> 'resolved' then
    new.resolved_at := coalesce(new.resolved_at, now());
  end if;
  return new;
end
$$;

create or replace trigger handoffs_before_update before update on dstack.handoffs
  for each row execute function dstack.handoffs_before_update();

-- ---------------------------------------------------------------------------------------------------------------
-- Decisions: atomic per-repo numbering, version snapshots of the compiled truth
-- ---------------------------------------------------------------------------------------------------------------

-- Atomic: the counter row is created or incremented in one statement under its row lock, so concurrent callers
-- (on any machine) each get a distinct number. Seeded from the highest existing number the first time.
create or replace function dstack.next_decision_number(p_repo_id uuid) returns integer
language sql security definer set search_path = pg_catalog, pg_temp as $$
  insert into dstack.decision_counters as c (repo_id, last_number)
  values (p_repo_id, coalesce((select max(d.number) from dstack.decisions d where d.repo_id = p_repo_id), 0) + 1)
  on conflict (repo_id) do update set last_number = c.last_number + 1
  returning c.last_number
$$;

-- A decision inserted without a number gets the next one; one inserted with an explicit number (an import)
-- moves the counter past it so later numbers never collide.
create or replace function dstack.decisions_before_insert() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  if new.number is null then
    new.number := dstack.next_decision_number(new.repo_id);
  else
    insert into dstack.decision_counters as c (repo_id, last_number)
    values (new.repo_id, new.number)
    on conflict (repo_id) do update set last_number = greatest(c.last_number, excluded.last_number);
  end if;
  new.version := 1;
  return new;
end
$$;

create or replace trigger decisions_before_insert before insert on dstack.decisions
  for each row execute function dstack.decisions_before_insert();

-- Rewriting the compiled truth (title, body, status, superseded_by) snapshots the previous version first and bumps
-- `version`, so every earlier understanding stays readable in decision_versions.
create or replace function dstack.decisions_before_update() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  if new.repo_id is distinct from old.repo_id or new.number is distinct from old.number then
    raise exception 'decision % keeps its repo and number', old.number using errcode = 'DS002';
  end if;
  if (new.title, new.body, new.status, new.superseded_by)
     is distinct from (old.title, old.body, old.status, old.superseded_by) then
    insert into dstack.decision_versions (decision_id, version, title, body, status, superseded_by, written_by, written_at)
    values (old.id, old.version, old.title, old.body, old.status, old.superseded_by,
            coalesce(old.updated_by, old.authored_by), old.updated_at);
    new.version := old.version + 1;
    new.updated_at := now();
  else
    new.version := old.version;
  end if;
  return new;
end
$$;

create or replace trigger decisions_before_update before update on dstack.decisions
  for each row execute function dstack.decisions_before_update();

-- ---------------------------------------------------------------------------------------------------------------
-- Presence
-- ---------------------------------------------------------------------------------------------------------------

-- Sweeps heartbeats older than the threshold; returns how many rows went. Security definer so any teammate's
-- sync can sweep everyone's stale rows even where row-level security limits deletes to one's own.
create or replace function dstack.expire_stale_presence(p_threshold interval default interval '5 minutes')
returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  swept integer;
begin
  if p_threshold is null or p_threshold <= interval '0' then
    raise exception 'expire_stale_presence: threshold must be positive, got %', p_threshold using errcode = 'DS422';
  end if;
  delete from dstack.presence where last_heartbeat < now() - p_threshold;
  get diagnostics swept = row_count;
  return swept;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Memories: knowledge states never go down by overwrite
-- ---------------------------------------------------------------------------------------------------------------

create or replace function dstack.knowledge_rank(p_state text) returns integer
language sql immutable as $$
  select case p_state when 'CONFIRMED' then 4 when 'INFERRED' then 3 when 'UNCERTAIN' then 2 when 'UNKNOWN' then 1 end
$$;

create or replace function dstack.memories_before_update() returns trigger
language plpgsql as $$
begin
  if dstack.knowledge_rank(new.state) < dstack.knowledge_rank(old.state) then
    raise exception 'memory %/% is %: an % write may not overwrite it', old.workspace, old.key, old.state, new.state
      using errcode = 'DS409',
            detail = json_build_object('workspace', old.workspace, 'key', old.key,
                                       'stored', old.state, 'incoming', new.state)::text;
  end if;
  new.created_at := old.created_at;
  new.updated_at := now();
  return new;
end
$$;

create or replace trigger memories_before_update before update on dstack.memories
  for each row execute function dstack.memories_before_update();
