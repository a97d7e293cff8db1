-- pgqrs SQLite statements of pgqrs_signals. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: insert_signal
INSERT INTO pgqrs_signals (run_id, name, value, sent_at) VALUES (?2, ?3, ?4, coalesce(?1, {{_now}}))

-- name: next_signal
-- The oldest pending signal of a name. No FOR UPDATE: the transaction's BEGIN IMMEDIATE holds the
-- write lock until record_signal_step and consume_signal are done.
SELECT id, value FROM pgqrs_signals
WHERE run_id = ?1 AND name = ?2 AND consumed_by IS NULL
ORDER BY id
LIMIT 1

-- name: consume_signal
UPDATE pgqrs_signals SET consumed_by = ?1 WHERE id = ?2

-- name: delete_signals_of_runs
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_signals WHERE run_id IN (SELECT value FROM json_each(?1))
