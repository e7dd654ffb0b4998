-- dstack brain: pushes, so the conflict pre-check can tell another agent's unpushed edits from published ones.
--
-- An edit counts as unpushed until its agent records a push of the same branch after it. Hooks record a push when a
-- `git push` succeeds (PostToolUse on Bash).

create table if not exists dstack.pushes (
  id uuid primary key default gen_random_uuid(),
  agent_id text not null references dstack.agents (id) on delete restrict,
  repo_id uuid not null references dstack.repos (id) on delete cascade,
  branch_id uuid references dstack.branches (id) on delete set null,
  session_id text,
  head_sha text check (head_sha is null or head_sha ~ '^[0-9a-f]{7,64}$'),
  remote text,
  pushed_at timestamptz not null default now()
);
create index if not exists pushes_repo_agent_branch_idx on dstack.pushes (repo_id, agent_id, branch_id, pushed_at desc);

-- The pre-check joins the other agents' edits of a repo by file; this index serves "their recent edits here".
create index if not exists edits_repo_agent_created_idx on dstack.edits (repo_id, agent_id, created_at desc);

create or replace trigger pushes_append_only before update or delete on dstack.pushes
  for each row execute function dstack.forbid_mutation();

do $$
begin
  alter table dstack.pushes enable row level security;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    return;
  end if;
  execute 'grant select, insert on dstack.pushes to authenticated';
  drop policy if exists team_read on dstack.pushes;
  drop policy if exists own_insert on dstack.pushes;
  create policy team_read on dstack.pushes for select to authenticated using (true);
  create policy own_insert on dstack.pushes for insert to authenticated
    with check (agent_id = dstack.current_agent());
end
$$;
