-- pgqrs on PostgreSQL: install, verify and uninstall, and the bookkeeping of applied migrations.
-- The migrations themselves are the numbered files under ../migrations.

-- name: install_lock
-- An advisory transaction lock serialises installs and uninstalls of one schema across
-- instances; SQLite's single writer serialises them by itself.
SELECT pg_advisory_xact_lock(hashtext('pgqrs.install.' || $1))

-- name: no_statement_timeout
-- Install and uninstall may take long on big tables (a migration rewrites rows): they are exempt
-- from the engine's statement timeout, for their transaction only. The lock timeout still holds.
SET LOCAL statement_timeout = 0

-- name: schema_exists
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present

-- name: create_schema
CREATE SCHEMA {{schema}}

-- name: create_migrations_table
-- created_schema remembers whether install made the schema, so uninstall drops only what it made.
CREATE TABLE IF NOT EXISTS {{schema}}.pgqrs_migrations (
    version        integer PRIMARY KEY,
    name           text NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    created_schema boolean NOT NULL DEFAULT false
)

-- name: applied_migrations
SELECT version FROM {{schema}}.pgqrs_migrations ORDER BY version

-- name: record_migration
INSERT INTO {{schema}}.pgqrs_migrations (version, name, created_schema) VALUES ($1, $2, $3)

-- name: migrations_table_exists
SELECT to_regclass('{{schema_literal}}.pgqrs_migrations') IS NOT NULL AS present

-- name: missing_relations
-- Every table and index the migrations make, in this order; the ones absent come back.
SELECT r.name
FROM unnest(ARRAY[
    'pgqrs_migrations', 'pgqrs_queues', 'pgqrs_workers', 'pgqrs_messages', 'pgqrs_messages_claim_idx',
    'pgqrs_messages_dedup_idx', 'pgqrs_messages_owner_idx',
    'pgqrs_messages_dead_idx', 'pgqrs_workers_queue_idx', 'pgqrs_sweeps',
    'pgqrs_workflows', 'pgqrs_runs', 'pgqrs_steps', 'pgqrs_signals', 'pgqrs_runs_key_idx',
    'pgqrs_runs_list_idx', 'pgqrs_runs_open_idx', 'pgqrs_signals_pending_idx', 'pgqrs_messages_dead_at_idx',
    'pgqrs_runs_finished_idx', 'pgqrs_signals_run_idx',
    'pgqrs_steps_position_idx', 'pgqrs_messages_leased_idx', 'pgqrs_messages_group_idx', 'pgqrs_schedules',
    'pgqrs_schedules_due_idx', 'pgqrs_run_events', 'pgqrs_run_events_position_idx',
    'pgqrs_run_events_run_idx', 'pgqrs_archive', 'pgqrs_archive_queue_idx',
    'pgqrs_archive_archived_at_idx']) WITH ORDINALITY AS r(name, ord)
WHERE to_regclass('{{schema_literal}}.' || r.name) IS NULL
ORDER BY r.ord

-- name: schema_created_by_install
SELECT coalesce(bool_or(created_schema), false) AS created FROM {{schema}}.pgqrs_migrations

-- name: pgqrs_tables
-- The tables named like pgqrs's that the schema holds, children first, and whether install made
-- each: a table is pgqrs's only if the migration that creates it is recorded as applied here (the
-- migrations create their tables without IF NOT EXISTS, so a recorded migration made them). A
-- table of the user's that merely has such a name (next to a partial or older install) is not.
SELECT t.name, t.version IN (SELECT version FROM {{schema}}.pgqrs_migrations) AS owned
FROM (VALUES ('pgqrs_archive', 16, -2), ('pgqrs_run_events', 12, -1), ('pgqrs_schedules', 10, 0), ('pgqrs_signals', 3, 1), ('pgqrs_steps', 3, 2), ('pgqrs_runs', 3, 3),
             ('pgqrs_workflows', 3, 4), ('pgqrs_sweeps', 2, 5), ('pgqrs_messages', 1, 6), ('pgqrs_workers', 1, 7),
             ('pgqrs_queues', 1, 8)) AS t(name, version, ord)
WHERE to_regclass('{{schema_literal}}.' || t.name) IS NOT NULL
ORDER BY t.ord

-- name: drop_owned_tables
-- Drops the tables of pgqrs_tables that install made, children first, then the migrations table;
-- every other table stays. One statement, so the list is read where the tables are dropped.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT o.name
    FROM (VALUES ('pgqrs_archive', 16, -2), ('pgqrs_run_events', 12, -1), ('pgqrs_schedules', 10, 0), ('pgqrs_signals', 3, 1), ('pgqrs_steps', 3, 2), ('pgqrs_runs', 3, 3),
                 ('pgqrs_workflows', 3, 4), ('pgqrs_sweeps', 2, 5), ('pgqrs_messages', 1, 6), ('pgqrs_workers', 1, 7),
                 ('pgqrs_queues', 1, 8)) AS o(name, version, ord)
    WHERE to_regclass('{{schema_literal}}.' || o.name) IS NOT NULL
      AND o.version IN (SELECT version FROM {{schema}}.pgqrs_migrations)
    ORDER BY o.ord
  LOOP
    EXECUTE format('DROP TABLE {{schema_literal}}.%I', t.name);
  END LOOP;
  DROP TABLE {{schema}}.pgqrs_migrations;
END $$

-- name: drop_schema_if_empty
-- A failed DROP SCHEMA would abort the transaction; the DO block keeps it alive when the user has
-- put objects of their own in the schema. SQLite has no schemas.
DO $$ BEGIN EXECUTE 'DROP SCHEMA {{schema_literal}}'; EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$
