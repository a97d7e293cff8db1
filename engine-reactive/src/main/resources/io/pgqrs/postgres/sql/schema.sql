-- pgqrs on PostgreSQL: install, verify and uninstall, and the bookkeeping of applied migrations.
-- The migrations themselves are the numbered files under ../migrations.

-- name: install_lock
-- An advisory transaction lock serialises installs and uninstalls of one schema across
-- instances; SQLite's single writer serialises them by itself.
SELECT pg_advisory_xact_lock(hashtext('pgqrs.install.' || $1))

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
    'pgqrs_messages_dedup_idx', 'pgqrs_messages_owner_idx', 'pgqrs_messages_archived_idx',
    'pgqrs_messages_dead_idx', 'pgqrs_workers_queue_idx', 'pgqrs_sweeps', 'pgqrs_messages_archived_at_idx',
    'pgqrs_workflows', 'pgqrs_runs', 'pgqrs_steps', 'pgqrs_signals', 'pgqrs_runs_key_idx',
    'pgqrs_runs_list_idx', 'pgqrs_runs_open_idx', 'pgqrs_signals_pending_idx', 'pgqrs_messages_dead_at_idx',
    'pgqrs_runs_finished_idx', 'pgqrs_signals_run_idx',
    'pgqrs_steps_position_idx']) WITH ORDINALITY AS r(name, ord)
WHERE to_regclass('{{schema_literal}}.' || r.name) IS NULL
ORDER BY r.ord

-- name: schema_created_by_install
SELECT coalesce(bool_or(created_schema), false) AS created FROM {{schema}}.pgqrs_migrations

-- name: drop_tables
DROP TABLE IF EXISTS {{schema}}.pgqrs_signals, {{schema}}.pgqrs_steps, {{schema}}.pgqrs_runs,
    {{schema}}.pgqrs_workflows, {{schema}}.pgqrs_sweeps, {{schema}}.pgqrs_messages, {{schema}}.pgqrs_workers,
    {{schema}}.pgqrs_queues, {{schema}}.pgqrs_migrations

-- name: drop_schema_if_empty
-- A failed DROP SCHEMA would abort the transaction; the DO block keeps it alive when the user has
-- put objects of their own in the schema. SQLite has no schemas.
DO $$ BEGIN EXECUTE 'DROP SCHEMA {{schema_literal}}'; EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$
