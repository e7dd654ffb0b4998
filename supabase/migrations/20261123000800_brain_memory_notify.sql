-- dstack brain: change notifications for memories, so BrainProvider.watch (and `dstack memory` users) see writes
-- and deletes by anyone as they happen. Channel `dstack_memory`, payload {"op","workspace","key"} (keys stay
-- under pg_notify's 8 kB limit: a key is at most 1,024 characters).

create or replace function dstack.notify_memory_change() returns trigger
language plpgsql as $$
declare
  r dstack.memories := coalesce(new, old);
begin
  perform pg_notify('dstack_memory', json_build_object(
    'op', case tg_op when 'DELETE' then 'delete' else 'write' end,
    'workspace', r.workspace,
    'key', r.key
  )::text);
  return null;
end
$$;

create or replace trigger memories_notify after insert or update or delete on dstack.memories
  for each row execute function dstack.notify_memory_change();
