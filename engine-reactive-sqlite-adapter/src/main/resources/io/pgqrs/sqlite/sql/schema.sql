-- pgqrs SQLite statements: the clock, connections and transactions, and the schema itself
-- (install, verify, uninstall). Shared by SQLite (JDBC) and Turso (Hrana); one file per table
-- holds the rest. Times are INTEGER microseconds since the epoch. A statement that reads the clock
-- takes the caller's override as ?1 and reads the database's clock when it is NULL:
-- coalesce(?1, {{_now}}). Where a unit of work must see one time in several statements, its first
-- statement returns that time as a column `now` and the later ones are given it as ?1.

-- name: _now
-- The database's clock, in microseconds since the epoch. SQLite and Turso read 'now' to the
-- millisecond (PostgreSQL's now() has microseconds), so these times are whole milliseconds in the
-- microsecond format of every time column. unixepoch('subsec') is exact to the millisecond where
-- julianday('now') is a float that misses it by some microseconds. The scalar subquery reads the
-- clock once per statement: Turso reads 'now' anew for every row otherwise.
(SELECT CAST(round(unixepoch('subsec') * 1000) AS INTEGER) * 1000)

-- name: _never
-- "Never" in microseconds: the largest integer, the visibility of a paused run's message without a
-- deadline (PostgreSQL uses a far but finite timestamp). A duration d is added to a time t as
-- t + min(d, {{_never}} - t), which saturates here: SQLite turns an integer overflow into an
-- inexact REAL instead of failing.
9223372036854775807

-- name: _new_token
-- A random version-4 UUID in text form, drawn anew for every row: SQLite and Turso have no
-- gen_random_uuid().
lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
      || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
      || hex(randomblob(6)))

-- name: ping
-- What connecting to a Hrana server runs, to see that it answers and how it keeps streams.
SELECT 1

-- name: enable_foreign_keys
-- Off by default in SQLite and Turso, per connection (PostgreSQL always enforces them), and a
-- no-op inside a transaction.
PRAGMA foreign_keys = ON

-- name: use_wal
-- A file database only: readers never wait for the one writer. In-memory databases keep their
-- own journal.
PRAGMA journal_mode = WAL

-- name: begin
-- IMMEDIATE takes the write lock at once: there is one writer, so the reads of a unit of work stay
-- true until its commit, as PostgreSQL's SELECT ... FOR UPDATE makes them there, and a busy
-- database fails the BEGIN instead of a later statement.
BEGIN IMMEDIATE

-- name: commit
COMMIT

-- name: rollback
ROLLBACK

-- name: changes
-- The rows the previous statement changed, read in the same Hrana request: servers need not fill
-- affected_row_count (tursodb --sync-server leaves it 0).
SELECT changes() AS n

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS pgqrs_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)

-- name: applied_migrations
SELECT version FROM pgqrs_migrations ORDER BY version

-- name: record_migration
INSERT INTO pgqrs_migrations (version, name, applied_at) VALUES (?1, ?2, {{_now}})

-- name: missing_objects
-- The tables and indexes of the migrations that the database lacks, in this order; the same list
-- as PostgreSQL's verify, read from sqlite_master in one statement instead of one look-up each.
SELECT e.value AS name
FROM json_each('["pgqrs_migrations", "pgqrs_queues", "pgqrs_workers", "pgqrs_messages",
                 "pgqrs_messages_claim_idx", "pgqrs_messages_dedup_idx", "pgqrs_messages_owner_idx",
                 "pgqrs_messages_archived_idx", "pgqrs_messages_dead_idx", "pgqrs_workers_queue_idx",
                 "pgqrs_sweeps", "pgqrs_messages_archived_at_idx", "pgqrs_workflows", "pgqrs_runs",
                 "pgqrs_steps", "pgqrs_signals", "pgqrs_runs_key_idx", "pgqrs_runs_list_idx",
                 "pgqrs_runs_open_idx", "pgqrs_signals_pending_idx", "pgqrs_messages_dead_at_idx",
                 "pgqrs_runs_finished_idx", "pgqrs_signals_run_idx", "pgqrs_steps_position_idx",
                 "pgqrs_messages_leased_idx", "pgqrs_messages_group_idx", "pgqrs_schedules",
                 "pgqrs_schedules_due_idx", "pgqrs_run_events", "pgqrs_run_events_position_idx",
                 "pgqrs_run_events_run_idx"]') AS e
WHERE e.value NOT IN (SELECT name FROM sqlite_master WHERE type IN ('table', 'index'))
ORDER BY e.key

-- name: installed_version
SELECT coalesce(max(version), 0) AS version FROM pgqrs_migrations

-- name: migrations_table_exists
SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'pgqrs_migrations'

-- name: pgqrs_tables
-- The tables named like pgqrs's that the database holds, children first, and whether install made
-- each: a table is pgqrs's only if the migration that first creates it is recorded as applied (the
-- migrations create their tables without IF NOT EXISTS). A table of the user's that merely has
-- such a name is not, and uninstall leaves it. The same list as PostgreSQL's.
SELECT json_extract(t.value, '$[0]') AS name,
       json_extract(t.value, '$[1]') IN (SELECT version FROM pgqrs_migrations) AS owned
FROM json_each('[["pgqrs_run_events", 12], ["pgqrs_schedules", 10], ["pgqrs_signals", 3], ["pgqrs_steps", 3], ["pgqrs_runs", 3], ["pgqrs_workflows", 3],
                 ["pgqrs_sweeps", 2], ["pgqrs_messages", 1], ["pgqrs_workers", 1], ["pgqrs_queues", 1]]') AS t
WHERE json_extract(t.value, '$[0]') IN (SELECT name FROM sqlite_master WHERE type = 'table')
ORDER BY t.key

-- name: drop_tables
-- One DROP per table, children first: SQLite drops one table per statement and has no CASCADE.
-- The driver runs those of the tables pgqrs_tables says install made, one by one, and the
-- migrations table last.
DROP TABLE pgqrs_run_events;
DROP TABLE pgqrs_schedules;
DROP TABLE pgqrs_signals;
DROP TABLE pgqrs_steps;
DROP TABLE pgqrs_runs;
DROP TABLE pgqrs_workflows;
DROP TABLE pgqrs_sweeps;
DROP TABLE pgqrs_messages;
DROP TABLE pgqrs_workers;
DROP TABLE pgqrs_queues;
DROP TABLE pgqrs_migrations;
