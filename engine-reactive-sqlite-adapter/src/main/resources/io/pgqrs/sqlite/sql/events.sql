-- pgqrs SQLite statements of pgqrs_run_events. ?1 is the clock override where a statement reads the
-- clock (see schema.sql). An event is written with the step that sets it, under the run's lease.

-- name: event_fence
-- Whether the run's lease holds (?2 run, ?3 message, ?4 token; see _run_lease_holds), the run's
-- status, and the time of the unit of work for record_event_step and insert_run_event after it.
-- The transaction's BEGIN IMMEDIATE holds the write lock until they are done.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT n.now, ({{_run_lease_holds}}) AS held, (SELECT status FROM pgqrs_runs WHERE id = ?2) AS run_status
FROM n

-- name: record_event_step
-- The step ?3 at position ?4 that sets an event, recorded SUCCESS with completion ?5 and no
-- attempt, unless a step is recorded at that id or position already (then nothing changes; the
-- write lock makes the check and the insert one). After event_fence found the lease held in the
-- same transaction. Changes one row if written.
INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, position, completion,
                         awaiting, wake_at, started_at, updated_at, finished_at, seq)
SELECT ?2, ?3, 'SUCCESS', NULL, NULL, NULL, 0, ?4, ?5, NULL, NULL, ?1, ?1, ?1,
       (SELECT coalesce(max(seq), 0) + 1 FROM pgqrs_steps WHERE run_id = ?2)
WHERE NOT EXISTS (SELECT 1 FROM pgqrs_steps WHERE run_id = ?2 AND (step_id = ?3 OR position = ?4))

-- name: insert_run_event
-- ?2 run, ?3 key, ?4 the setting step's position, ?5 value; ?1 the time event_fence read.
INSERT INTO pgqrs_run_events (run_id, key, position, value, created_at) VALUES (?2, ?3, ?4, ?5, ?1)

-- name: list_run_events
-- ?1 a JSON array of [run id, seq] pairs: each run's events after its seq, by run and seq, at
-- most ?2.
SELECT e.run_id, e.seq, e.key, e.value, e.created_at
FROM json_each(?1) AS t
JOIN pgqrs_run_events e
  ON e.run_id = json_extract(t.value, '$[0]') AND e.seq > json_extract(t.value, '$[1]')
ORDER BY e.run_id, e.seq
LIMIT ?2

-- name: delete_events_of_runs
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_run_events WHERE run_id IN (SELECT value FROM json_each(?1))
