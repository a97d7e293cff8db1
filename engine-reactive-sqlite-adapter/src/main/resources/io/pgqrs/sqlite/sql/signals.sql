-- pgqrs SQLite statements of pgqrs_signals. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: insert_signal
INSERT INTO pgqrs_signals (run_id, name, value, sent_at) VALUES (?2, ?3, ?4, coalesce(?1, {{_now}}))

-- name: pending_signal_for_step
-- Whether the run's lease holds (?2 run, ?3 message, ?4 token; see _run_lease_holds), the oldest
-- pending signal of the name ?5 (id and value, NULL when none), and the time of the unit of work
-- for record_taken_signal and consume_signal after it. No FOR UPDATE: the transaction's BEGIN
-- IMMEDIATE holds the write lock until they are done.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT n.now, ({{_run_lease_holds}}) AS held, g.id, g.value
FROM n LEFT JOIN (SELECT id, value FROM pgqrs_signals
                  WHERE run_id = ?2 AND name = ?5 AND consumed_by IS NULL
                  ORDER BY id
                  LIMIT 1) AS g ON true

-- name: list_run_signals
-- The signals of the run ?1 after the id ?2, by id, at most ?3.
SELECT id, run_id, name, value, sent_at, consumed_by
FROM pgqrs_signals
WHERE run_id = ?1 AND id > ?2
ORDER BY id
LIMIT ?3

-- name: consume_signal
UPDATE pgqrs_signals SET consumed_by = ?1 WHERE id = ?2

-- name: delete_signals_of_runs
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_signals WHERE run_id IN (SELECT value FROM json_each(?1))
