-- Local development seed for `supabase db reset` (never run against a hosted project by `db push`).
-- One teammate and one repository, so the views and policies have something to show.
insert into dstack.agents (id, display_name) values ('demo', 'Demo teammate') on conflict (id) do nothing;
select dstack.upsert_repo('local:dstack-demo', 'main');
