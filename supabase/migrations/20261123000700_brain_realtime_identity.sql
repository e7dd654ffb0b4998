-- dstack brain: full row images of presence for Supabase Realtime.
--
-- Realtime sends a DELETE with the replica identity's columns only (the primary key by default): a client filtering
-- by repository could not place a session that left (SessionEnd deletes its presence row). With `replica identity
-- full` the old row is sent whole. Only presence: it is the table whose deletes matter, and the others carry a
-- generated tsvector column, which Postgres 18 refuses in a full identity that a publication does not publish.
-- pg_notify (embedded and plain Postgres) does not depend on this.

alter table dstack.presence replica identity full;
