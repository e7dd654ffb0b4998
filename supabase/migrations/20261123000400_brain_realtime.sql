-- dstack brain: realtime.
--
-- Two mechanisms, one for each deployment:
--   * pg_notify on channel `dstack_brain` from row triggers: works on embedded PGlite and on any Postgres; a client
--     LISTENs on one connection and gets a small JSON payload per change (keys only: notifications cap at 8 kB).
--   * a logical-replication publication for hosted Supabase Realtime (`postgres_changes`).

-- Payload: {"table","op","id","repo_id","agent_id","session_id"}; absent keys are omitted.
create or replace function dstack.notify_change() returns trigger
language plpgsql as $$
declare
  r jsonb := to_jsonb(coalesce(new, old));
begin
  perform pg_notify('dstack_brain', jsonb_strip_nulls(jsonb_build_object(
    'table', tg_table_name,
    'op', lower(tg_op),
    'id', r -> 'id',
    'repo_id', r -> 'repo_id',
    'agent_id', coalesce(r -> 'agent_id', r -> 'from_agent', r -> 'authored_by'),
    'session_id', r -> 'session_id'
  ))::text);
  return null;
end
$$;

create or replace trigger presence_notify after insert or update or delete on dstack.presence
  for each row execute function dstack.notify_change();
create or replace trigger intents_notify after insert or update or delete on dstack.intents
  for each row execute function dstack.notify_change();
create or replace trigger handoffs_notify after insert or update or delete on dstack.handoffs
  for each row execute function dstack.notify_change();
create or replace trigger decisions_notify after insert or update or delete on dstack.decisions
  for each row execute function dstack.notify_change();

-- Our own publication, plus membership in Supabase's default one when this database is a Supabase project.
do $$
declare
  t text;
begin
  if not exists (select 1 from pg_publication where pubname = 'dstack_realtime') then
    create publication dstack_realtime
      for table dstack.presence, dstack.intents, dstack.handoffs, dstack.decisions;
  end if;
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    foreach t in array array['presence', 'intents', 'handoffs', 'decisions'] loop
      if not exists (
        select 1 from pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname = 'dstack' and tablename = t
      ) then
        execute format('alter publication supabase_realtime add table dstack.%I', t);
      end if;
    end loop;
  end if;
exception when insufficient_privilege then
  raise notice 'dstack: no privilege to manage publications; realtime falls back to pg_notify only';
end
$$;
