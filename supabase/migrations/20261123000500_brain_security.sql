-- dstack brain: row-level security for hosted (Supabase) teams.
--
-- How it behaves where:
--   * Supabase, through PostgREST / supabase-js with a user JWT: role `authenticated`; the JWT must carry the
--     teammate's handle as claim `agent_id` (top level, or in app_metadata, which users cannot edit). Everyone on
--     the team reads everything; a teammate writes only rows attributed to themself; the append-only tables accept
--     inserts only. `anon` gets nothing.
--   * Embedded PGlite and a local Postgres: dstack connects as the tables' owner, which row-level security does not
--     apply to, so it is effectively off there. Nothing to configure.

-- The roles Supabase ships; created here (without login) so the same policies apply on any Postgres.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
exception when insufficient_privilege then
  raise notice 'dstack: no privilege to create roles; policies are installed only for roles that exist';
end
$$;

-- The teammate handle from the request's JWT claims (PostgREST sets request.jwt.claims), or null.
create or replace function dstack.current_agent() returns text
language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'agent_id',
    nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'app_metadata' ->> 'agent_id'
  )
$$;

do $$
declare
  t text;
  all_tables text[] := array[
    'agents', 'repos', 'features', 'files', 'branches', 'intents', 'edits', 'decisions', 'decision_counters',
    'decision_events', 'decision_versions', 'handoffs', 'presence', 'memories', 'file_features',
    'decision_features', 'decision_files', 'intent_features', 'intent_decisions'
  ];
  -- Shared registries and graph edges: any teammate may get-or-create them.
  shared_tables text[] := array[
    'repos', 'features', 'files', 'branches', 'file_features', 'decision_features', 'decision_files',
    'intent_features', 'intent_decisions'
  ];
begin
  -- Enabled everywhere: with no policy for a role, that role sees nothing. Owners are not affected.
  foreach t in array all_tables loop
    execute format('alter table dstack.%I enable row level security', t);
  end loop;

  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    raise notice 'dstack: role authenticated does not exist; no policies installed';
    return;
  end if;

  execute 'grant usage on schema dstack to authenticated';
  execute 'revoke all on all tables in schema dstack from anon, public';
  execute 'grant select, insert, update, delete on all tables in schema dstack to authenticated';
  execute 'revoke all on dstack.decision_counters from authenticated';
  execute 'revoke execute on all functions in schema dstack from public';
  execute 'grant execute on all functions in schema dstack to authenticated';

  -- Drop-and-create keeps this block idempotent.
  foreach t in array all_tables loop
    execute format('drop policy if exists team_read on dstack.%I', t);
    execute format('drop policy if exists own_insert on dstack.%I', t);
    execute format('drop policy if exists own_update on dstack.%I', t);
    execute format('drop policy if exists own_delete on dstack.%I', t);
    execute format('drop policy if exists team_insert on dstack.%I', t);
    execute format('drop policy if exists team_update on dstack.%I', t);
    execute format('drop policy if exists team_delete on dstack.%I', t);
    if t <> 'decision_counters' then
      execute format('create policy team_read on dstack.%I for select to authenticated using (true)', t);
    end if;
  end loop;

  foreach t in array shared_tables loop
    execute format('create policy team_insert on dstack.%I for insert to authenticated with check (true)', t);
    execute format('create policy team_update on dstack.%I for update to authenticated using (true) with check (true)', t);
    execute format('create policy team_delete on dstack.%I for delete to authenticated using (true)', t);
  end loop;

  -- A teammate registers and edits only their own agent row.
  create policy own_insert on dstack.agents for insert to authenticated
    with check (id = dstack.current_agent());
  create policy own_update on dstack.agents for update to authenticated
    using (id = dstack.current_agent()) with check (id = dstack.current_agent());

  -- Intents and presence belong to their agent.
  create policy own_insert on dstack.intents for insert to authenticated
    with check (agent_id = dstack.current_agent());
  create policy own_update on dstack.intents for update to authenticated
    using (agent_id = dstack.current_agent()) with check (agent_id = dstack.current_agent());
  create policy own_insert on dstack.presence for insert to authenticated
    with check (agent_id = dstack.current_agent());
  create policy own_update on dstack.presence for update to authenticated
    using (agent_id = dstack.current_agent()) with check (agent_id = dstack.current_agent());
  create policy own_delete on dstack.presence for delete to authenticated
    using (agent_id = dstack.current_agent());

  -- Append-only logs: insert under one's own name; the triggers refuse update and delete for everyone.
  create policy own_insert on dstack.edits for insert to authenticated
    with check (agent_id = dstack.current_agent());
  create policy own_insert on dstack.decision_events for insert to authenticated
    with check (agent_id = dstack.current_agent());

  -- Decisions are team knowledge: authored under one's name, rewritable by any teammate who signs the rewrite.
  create policy own_insert on dstack.decisions for insert to authenticated
    with check (authored_by = dstack.current_agent());
  create policy team_update on dstack.decisions for update to authenticated
    using (true) with check (updated_by = dstack.current_agent());

  -- Handoffs: written by the sender; picked up by the addressee, or by anyone when addressed to nobody.
  create policy own_insert on dstack.handoffs for insert to authenticated
    with check (from_agent = dstack.current_agent());
  create policy team_update on dstack.handoffs for update to authenticated
    using (from_agent = dstack.current_agent() or to_agent = dstack.current_agent() or to_agent is null)
    with check (true);

  -- Memories are a team resource: anyone writes under their own provenance; hygiene (gc) may delete any.
  create policy own_insert on dstack.memories for insert to authenticated
    with check (agent_id = dstack.current_agent());
  create policy own_update on dstack.memories for update to authenticated
    using (true) with check (agent_id = dstack.current_agent());
  create policy team_delete on dstack.memories for delete to authenticated using (true);
end
$$;
