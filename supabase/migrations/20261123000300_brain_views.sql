-- dstack brain: the views every read path uses.
--
-- security_invoker: on Supabase a view otherwise runs with its owner's rights and would bypass row-level security.

-- Presence younger than 5 minutes, with who and what. It carries repo_id and every reader filters on it, so agents
-- in other repositories never show up (fstack's view had no repo filter at all).
create or replace view dstack.live_presence with (security_invoker = true) as
select
  p.agent_id,
  a.display_name,
  p.session_id,
  p.repo_id,
  r.canonical as repo,
  p.branch_name,
  p.intent_id,
  i.title as intent_title,
  p.status,
  p.active_files,
  p.machine,
  p.started_at,
  p.last_heartbeat,
  extract(epoch from now() - p.last_heartbeat)::double precision as heartbeat_age_seconds
from dstack.presence p
join dstack.agents a on a.id = p.agent_id
join dstack.repos r on r.id = p.repo_id
left join dstack.intents i on i.id = p.intent_id
where p.last_heartbeat > now() - interval '5 minutes';

-- Work in progress: not shipped, not abandoned.
create or replace view dstack.active_intents with (security_invoker = true) as
select
  i.id,
  i.agent_id,
  a.display_name,
  i.repo_id,
  r.canonical as repo,
  i.branch_id,
  b.name as branch_name,
  i.session_id,
  i.title,
  i.body,
  i.promises,
  i.not_touching,
  i.status,
  i.inferred,
  i.created_at,
  i.updated_at
from dstack.intents i
join dstack.agents a on a.id = i.agent_id
join dstack.repos r on r.id = i.repo_id
left join dstack.branches b on b.id = i.branch_id
where i.status in ('active', 'paused');

-- Each active intent that has edited each file, with how often and how recently.
create or replace view dstack.file_intents with (security_invoker = true) as
select
  f.id as file_id,
  f.repo_id,
  f.path,
  i.id as intent_id,
  i.agent_id,
  i.title as intent_title,
  i.status as intent_status,
  count(*)::integer as edit_count,
  max(e.created_at) as last_edit_at
from dstack.edits e
join dstack.files f on f.id = e.file_id
join dstack.intents i on i.id = e.intent_id
where i.status in ('active', 'paused')
group by f.id, f.repo_id, f.path, i.id, i.agent_id, i.title, i.status;

-- Decisions per feature, most recent first within each feature.
create or replace view dstack.decisions_by_feature with (security_invoker = true) as
select
  ft.id as feature_id,
  ft.repo_id,
  ft.name as feature_name,
  d.id as decision_id,
  d.number,
  d.title,
  d.status,
  d.version,
  d.created_at,
  d.updated_at
from dstack.features ft
join dstack.decision_features df on df.feature_id = ft.id
join dstack.decisions d on d.id = df.decision_id
order by ft.name, d.created_at desc;
