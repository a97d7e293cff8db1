-- pgqrs on PostgreSQL: the statements of pgqrs_runs.

-- name: _run_columns
id, workflow, status, input::text AS input, output::text AS output, error, idempotency_key, attempts,
failures, created_at, started_at, finished_at, deadline_at, version, parent_run_id, forked_from

-- name: _run_keys
-- The distinct run ids of $1 (key_id), a set the planner reads as one row (see "Rows by key" in
-- common.sql).
SELECT DISTINCT key_id FROM unnest($1::bigint[]) AS k(key_id) LIMIT cardinality($1::bigint[])

-- name: _trigger_target
-- The workflow ($2) and the queue of the run's message ($3: the workflow's, or its version's), which
-- must both exist; the ids of the run and its message are drawn only when they do.
w AS (SELECT q.id AS queue_id FROM {{schema}}.pgqrs_workflows wf JOIN {{schema}}.pgqrs_queues q ON q.name = $3
      WHERE wf.name = $2),
ids AS (SELECT nextval(pg_get_serial_sequence('{{schema_literal}}.pgqrs_runs', 'id')) AS run_id,
               nextval(pg_get_serial_sequence('{{schema_literal}}.pgqrs_messages', 'id')) AS message_id
        FROM w)

-- name: trigger_run
-- A run is created QUEUED, as TriggerRun's contract says. Data-modifying CTEs and pg_notify, one
-- statement: both ids are drawn first, so the run row names
-- its message and the message's payload names its run without a second write. An idempotency
-- conflict inserts neither (the drawn ids are skipped) and returns no run id. $4 the version, $5
-- the input, $6 the key, $7 the timeout in milliseconds, $8 the queue's channel: notified at commit
-- in the caller's transaction, null for the engine's own, which announces after commit; $9 the
-- message's headers or null; $10 the parent run or null, $11 whether the parent's cancel cancels it
-- (a child is linked in the statement that creates it, so no cancel of the parent can miss it
-- between two statements). The run is
-- awaited: any engine may execute it, so its finish is announced to the trigger's waiters.
WITH n AS (SELECT {{_now}} AS now),
{{_trigger_target}},
ins AS (
    INSERT INTO {{schema}}.pgqrs_runs (id, workflow, status, input, idempotency_key, message_id, created_at,
                                       updated_at, deadline_at, version, awaited, parent_run_id,
                                       cancel_with_parent)
    OVERRIDING SYSTEM VALUE
    SELECT ids.run_id, $2, 'QUEUED', $5::jsonb, $6, ids.message_id, n.now, n.now,
           n.now + $7 * interval '1 millisecond', $4, true, $10::bigint, $11
    FROM ids, n
    ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, message_id),
m AS (
    INSERT INTO {{schema}}.pgqrs_messages (id, queue_id, payload, enqueued_at, visible_at, due_at, headers)
    OVERRIDING SYSTEM VALUE
    SELECT ins.message_id, w.queue_id, jsonb_build_object('run_id', ins.id), n.now, n.now, n.now, $9::jsonb
    FROM ins, w, n
    RETURNING id),
note AS (SELECT pg_notify($8, '') FROM m WHERE $8::text IS NOT NULL)
SELECT (SELECT queue_id FROM w) AS queue_id, (SELECT id FROM ins) AS run_id,
       (SELECT count(*) FROM note) AS notified

-- name: trigger_leased_run
-- The local fast path, one statement like trigger_run: the run is inserted RUNNING with its first
-- attempt begun, and its message leased to the worker $8 for $9 milliseconds exactly as claim
-- leaves a message (one delivery, a new token, invisible until the lease ends). No NOTIFY: the
-- worker holding the lease runs it, no consumer needs waking. $10 the message's headers or null;
-- $11 and $12 the parent and cancel_with_parent, as in trigger_run. The run is not awaited (its waiters are
-- in the triggering engine, told in process) until a waiter elsewhere looks it up. The message's
-- columns are prefixed m_, apart from the run's.
WITH n AS (SELECT {{_now}} AS now),
{{_trigger_target}},
ins AS (
    INSERT INTO {{schema}}.pgqrs_runs (id, workflow, status, input, idempotency_key, message_id, attempts,
                                       created_at, updated_at, started_at, deadline_at, version, parent_run_id,
                                       cancel_with_parent)
    OVERRIDING SYSTEM VALUE
    SELECT ids.run_id, $2, 'RUNNING', $5::jsonb, $6, ids.message_id, 1, n.now, n.now, n.now,
           n.now + $7 * interval '1 millisecond', $4, $11::bigint, $12
    FROM ids, n
    ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING {{_run_columns}}, message_id),
m AS (
    INSERT INTO {{schema}}.pgqrs_messages (id, queue_id, payload, attempts, enqueued_at, visible_at, due_at,
                                           lease_token, lease_owner, headers)
    OVERRIDING SYSTEM VALUE
    SELECT ins.message_id, w.queue_id, jsonb_build_object('run_id', ins.id), 1, n.now,
           n.now + $9 * interval '1 millisecond', n.now, gen_random_uuid(), $8, $10::jsonb
    FROM ins, w, n
    RETURNING *)
SELECT (SELECT queue_id FROM w) AS queue_id, (SELECT now FROM n) AS now, ins.id AS run_id, ins.*,
       m.id AS m_id, $3::text AS m_queue, m.payload::text AS m_payload, m.state AS m_state, m.priority AS m_priority,
       m.attempts AS m_attempts, m.enqueued_at AS m_enqueued_at, m.visible_at AS m_visible_at,
       m.lease_token AS m_lease_token, m.lease_owner AS m_lease_owner, m.dedup_key AS m_dedup_key, m.group_key AS m_group_key, m.headers::text AS m_headers,
       m.last_error AS m_last_error, m.archived_at AS m_archived_at, m.dead_at AS m_dead_at
FROM (SELECT 1) AS one LEFT JOIN ins ON true LEFT JOIN m ON true

-- name: run_by_key
SELECT id FROM {{schema}}.pgqrs_runs WHERE workflow = $1 AND idempotency_key = $2

-- name: begin_run
-- The begin table ($3 its sources, $4 their targets, the engine's run state machine) is applied as
-- one compare-and-set of the status: a run whose status is a source takes its target, counts an
-- attempt and gets its start time; any other run is left as it is. The run's recorded
-- steps (SUCCESS, ERROR, RETRY, WAITING) come back in the same statement, in completion then
-- position order, as one JSON array: outputs as the stored JSON's text, so they are read exactly,
-- and due times as the microseconds left by the statement's clock (never negative). Positions
-- compare byte-wise (COLLATE "C"), as SQLite compares text.
WITH n AS (SELECT {{_now}} AS now),
u AS (
    UPDATE {{schema}}.pgqrs_runs
    SET attempts = attempts + CASE WHEN status = ANY($3::text[]) THEN 1 ELSE 0 END,
        started_at = CASE WHEN status = ANY($3::text[]) THEN coalesce(started_at, n.now) ELSE started_at END,
        status = coalesce(($4::text[])[array_position($3::text[], status)], status),
        updated_at = n.now
    FROM n
    WHERE id = $2
    RETURNING {{_run_columns}})
SELECT u.*, (SELECT now FROM n) AS now,
       (SELECT {{_history}} FROM {{schema}}.pgqrs_steps s, n WHERE s.run_id = $2 AND {{_history_steps}}) AS history
FROM u

-- name: _history
-- The recorded steps s of a run as one JSON array, in completion then position order, by the
-- clock n (see begin_run); a WAITING step tells whether a signal it waits for is pending.
json_agg(json_build_object(
    'position', s.position, 'step_id', s.step_id, 'status', s.status, 'output', s.output::text,
    'output_type', s.output_type, 'error', s.error, 'attempts', s.attempts,
    'until_wake_us', CASE WHEN s.status IN ('RETRY', 'WAITING') AND s.wake_at IS NOT NULL
        THEN greatest(0, (extract(epoch FROM (s.wake_at - n.now)) * 1000000)::bigint) END,
    'awaiting', s.awaiting, 'completion', s.completion,
    'signalled', s.status = 'WAITING' AND EXISTS (
        SELECT 1 FROM {{schema}}.pgqrs_signals g
        WHERE g.run_id = s.run_id AND g.name = s.awaiting AND g.consumed_by IS NULL))
    ORDER BY s.completion, s.position COLLATE "C")::text

-- name: _history_steps
s.status IN ('SUCCESS', 'ERROR', 'RETRY', 'WAITING')

-- name: claim_runs
-- A workflow worker's claim and the begin of the claimed messages' runs in one round trip: the
-- claim's CTEs ($1..$5, see claim), then the begin table ($6 its sources, $7 their targets)
-- applied to each claimed message's run as begin_run applies it, with its history. A run is begun
-- here only if its row can be locked at once (SKIP LOCKED): this statement holds the claimed
-- messages, and every other statement locks a run before its message, so waiting for a run here
-- could deadlock; a message whose run was not begun (locked, missing, or a payload without a
-- numeric run_id) comes back without one, and the worker begins it on its own. Each claimed row
-- carries its run's columns (r_*) when begun.
WITH {{_claim_ctes}},
rl AS MATERIALIZED (
    SELECT r.id AS run_id, c.id AS message_id
    FROM claimed c
    JOIN {{schema}}.pgqrs_runs r
      ON r.id = CASE WHEN jsonb_typeof(c.payload -> 'run_id') = 'number'
                          AND (c.payload ->> 'run_id') ~ '^[0-9]{1,18}$'
                     THEN (c.payload ->> 'run_id')::bigint END
    ORDER BY r.id
    FOR UPDATE OF r SKIP LOCKED),
b AS (
    UPDATE {{schema}}.pgqrs_runs x
    SET attempts = x.attempts + CASE WHEN x.status = ANY($6::text[]) THEN 1 ELSE 0 END,
        started_at = CASE WHEN x.status = ANY($6::text[]) THEN coalesce(x.started_at, n.now) ELSE x.started_at END,
        status = coalesce(($7::text[])[array_position($6::text[], x.status)], x.status),
        updated_at = n.now
    FROM rl, n
    WHERE x.id = rl.run_id
    RETURNING rl.message_id, {{_run_columns}})
SELECT 'q' AS kind, {{_no_claimed_message}},
       NULL::bigint AS r_id, NULL::text AS r_workflow, NULL::text AS r_status, NULL::text AS r_input,
       NULL::text AS r_output, NULL::text AS r_error, NULL::text AS r_idempotency_key, NULL::integer AS r_attempts,
       NULL::integer AS r_failures, NULL::timestamptz AS r_created_at, NULL::timestamptz AS r_started_at,
       NULL::timestamptz AS r_finished_at, NULL::timestamptz AS r_deadline_at, NULL::text AS r_version,
       NULL::bigint AS r_parent_run_id, NULL::bigint AS r_forked_from,
       NULL::timestamptz AS r_now, NULL::text AS r_history, {{_rest_us}} AS rest_us
FROM q
UNION ALL
SELECT 'c', m.claim_rank, {{_returned_message_columns}},
       b.id, b.workflow, b.status, b.input, b.output, b.error, b.idempotency_key, b.attempts, b.failures,
       b.created_at, b.started_at, b.finished_at, b.deadline_at, b.version, b.parent_run_id, b.forked_from,
       (SELECT now FROM n),
       CASE WHEN b.id IS NOT NULL THEN
           (SELECT {{_history}} FROM {{schema}}.pgqrs_steps s, n WHERE s.run_id = b.id AND {{_history_steps}}) END,
       NULL
FROM claimed m LEFT JOIN b ON b.message_id = m.id
UNION ALL
SELECT 'd', m.claim_rank, {{_returned_message_columns}},
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL
FROM dead m
ORDER BY claim_rank NULLS FIRST

-- name: lock_run
-- Signals, suspends and control serialise on the run row ($2), each reading after the lock with a
-- fresh statement, so a signal sent while a worker suspends is never missed. Nothing else is read
-- here: a statement that waited for the lock sees the run's new row but every other table as of
-- its start, before the transaction it waited for committed.
SELECT {{_run_columns}}, r.message_id, {{_now}} AS locked_at
FROM {{schema}}.pgqrs_runs r WHERE r.id = $2 FOR UPDATE OF r

-- name: run_message_held
-- Whether a worker holds the locked run's message $2 by the clock (the message live, leased, its
-- lease not expired), as a control picks its table by it. A statement of its own after lock_run:
-- read in lock_run, a suspend that committed while the control waited for the lock would not be
-- seen, and a run whose worker had already released it would be left CANCELLING with nobody to
-- end it.
SELECT EXISTS (SELECT 1 FROM {{schema}}.pgqrs_messages m
               WHERE m.id = $2 AND m.state = 'live' AND m.lease_token IS NOT NULL
                 AND m.visible_at > {{_now}}) AS held

-- name: count_failure
UPDATE {{schema}}.pgqrs_runs SET failures = failures + 1, updated_at = {{_now}} WHERE id = $2

-- name: _finish_columns
-- What finishing records, from the target t.target the finish table gave the run x and the
-- outcome's t.output and t.error: FinishRun's contract, not a transition. The output is kept only
-- by a run that ends SUCCESS and the error given only by one that ends ERROR; a run that ends
-- CANCELLED keeps the reason its cancel recorded.
status = t.target,
output = CASE WHEN t.target = 'SUCCESS' THEN t.output::jsonb END,
error = CASE WHEN t.target = 'ERROR' THEN t.error WHEN t.target = 'CANCELLED' THEN x.error END

-- name: finish_run
-- The finish table ($3 its sources, $4 their targets) applied as one compare-and-set of the
-- status of the locked run, with the output $5 and the error $6: a status that is not a source
-- does not move and nothing changes.
WITH n AS (SELECT {{_now}} AS now),
t AS (SELECT id, ($4::text[])[array_position($3::text[], status)] AS target, $5::text AS output, $6::text AS error
      FROM {{schema}}.pgqrs_runs WHERE id = $2 AND status = ANY($3::text[]))
UPDATE {{schema}}.pgqrs_runs x
SET {{_finish_columns}}, finished_at = n.now, updated_at = n.now
FROM n, t
WHERE x.id = t.id
RETURNING x.status

-- name: finish_leased_runs
-- Data-modifying CTEs and pg_notify: the hot path of finishing, many runs in one statement, the
-- arrays $2..$5 unnested in input order, each fenced on its own. Each input's finish table comes
-- flattened as ($6 input ordinal, $7 source, $8 target) rows. Lock each run whose status is a source
-- of its input's table, in id order; archive its message fenced by the run's lease
-- token (locked in id order too, as every statement that writes many messages does); move the run
-- to its target only if its archive happened; announce it on the channel $9 at commit (the driver
-- passes null and announces the finished runs that are awaited after commit instead). One row per
-- input comes back, in input order, with the status the run ended with or null, and whether it is
-- awaited. The steps an execution ended with (its tail, FinishRun.steps) come flattened as ($10
-- input ordinal, $11.. the record) rows and are written, as record_steps writes a SUCCESS or ERROR,
-- for the runs that moved and for no other: the tail and the finish commit together or not at all.
-- Runs and messages are looked up and locked one key at a time (see "Rows by key" in common.sql).
WITH n AS (SELECT {{_now}} AS now),
i AS (
    SELECT *
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])
        WITH ORDINALITY AS i(run_id, token, output, error, ord)),
mv AS (SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[]) AS mv(ord, source, target)),
t AS MATERIALIZED (
    SELECT x.id, x.message_id, mv.target, k.token, k.output, k.error
    FROM (SELECT i.* FROM i ORDER BY i.run_id, i.ord) k
    CROSS JOIN LATERAL (
        SELECT r.id, r.message_id, r.status FROM {{schema}}.pgqrs_runs r
        WHERE r.id = k.run_id AND r.status IN (SELECT mv.source FROM mv WHERE mv.ord = k.ord)
        FOR UPDATE OF r) x
    JOIN mv ON mv.ord = k.ord AND mv.source = x.status),
l AS MATERIALIZED (
    SELECT x.id
    FROM (SELECT t.message_id, t.token FROM t ORDER BY t.message_id) k
    CROSS JOIN LATERAL (
        SELECT m.id, m.state, m.visible_at FROM {{schema}}.pgqrs_messages m
        WHERE m.id = k.message_id AND m.lease_token = k.token::uuid
        OFFSET 0 FOR UPDATE OF m) x
    WHERE x.state = 'live' AND x.visible_at > (SELECT now FROM n)),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    USING l
    WHERE m.id = l.id
    RETURNING m.*, true AS keep_lease),
a AS ({{_archive_moved}} RETURNING id),
u AS (
    UPDATE {{schema}}.pgqrs_runs x
    SET {{_finish_columns}}, finished_at = n.now, updated_at = n.now
    FROM n, t
    WHERE x.id = t.id AND t.message_id IN (SELECT id FROM moved)
    RETURNING x.id, x.status, x.awaited),
tail AS (
    SELECT *
    FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                $17::integer[], $18::integer[], $19::bigint[])
        WITH ORDINALITY AS tail(ord, position, step_id, status, output, output_type, error, attempts, completion,
                                ran_us, k)),
ws AS (
    INSERT INTO {{schema}}.pgqrs_steps AS st (run_id, step_id, position, status, output, output_type, error,
                                              attempts, completion, started_at, updated_at, finished_at)
    SELECT u.id, tail.step_id, tail.position, tail.status, tail.output::jsonb, tail.output_type, tail.error,
           tail.attempts, tail.completion, n.now - tail.ran_us * interval '1 microsecond', n.now, n.now
    FROM tail
    JOIN i ON i.ord = tail.ord
    JOIN u ON u.id = i.run_id
    CROSS JOIN n
    ORDER BY tail.k
    ON CONFLICT (run_id, step_id) DO UPDATE
    SET position = excluded.position, status = excluded.status, output = excluded.output,
        output_type = excluded.output_type, error = excluded.error, attempts = excluded.attempts,
        wake_at = NULL, awaiting = NULL, completion = excluded.completion, updated_at = excluded.updated_at,
        finished_at = excluded.finished_at, lease_token = NULL, lease_until = NULL
    WHERE st.status IN ('RETRY', 'WAITING', 'RUNNING')
    RETURNING 1),
note AS (SELECT pg_notify($9, id::text) FROM u WHERE $9::text IS NOT NULL)
SELECT i.run_id, u.status, coalesce(u.awaited, false) AS awaited, (SELECT count(*) FROM note) AS notified
FROM i LEFT JOIN u ON u.id = i.run_id
ORDER BY i.ord

-- name: set_run_status
-- A control's move of the locked run from $5 to $3 (the target its table gave), recording the
-- reason $4 as its error when given; $6 tells whether the target is a finished status.
UPDATE {{schema}}.pgqrs_runs
SET status = $3, error = coalesce($4, error),
    finished_at = CASE WHEN $6 THEN {{_now}} ELSE finished_at END, updated_at = {{_now}}
WHERE id = $2 AND status = $5

-- name: find_run
SELECT {{_run_columns}} FROM {{schema}}.pgqrs_runs WHERE id = $1

-- name: find_runs
-- Several runs by id: $1 the ids, each taken by its key (see "Rows by key" in common.sql).
WITH k AS ({{_run_keys}})
SELECT {{_run_columns}} FROM k JOIN {{schema}}.pgqrs_runs r ON r.id = k.key_id

-- name: await_runs
-- The result waiter's look-up of every run it waits for ($1 the ids), marking each awaited so that
-- its finish is announced: a run not marked yet is marked and read as the update leaves it (after
-- any finish it waited for), one marked already is read. A run marked by another waiter between
-- this statement's snapshot and its update is left out; that waiter's mark gets it announced.
-- Each run is taken by its key (see "Rows by key" in common.sql).
WITH k AS ({{_run_keys}}),
marked AS (
    UPDATE {{schema}}.pgqrs_runs r SET awaited = true
    FROM k
    WHERE r.id = k.key_id AND NOT r.awaited
    RETURNING {{_run_columns}})
SELECT * FROM marked
UNION ALL
SELECT {{_run_columns}} FROM k JOIN {{schema}}.pgqrs_runs r ON r.id = k.key_id WHERE r.awaited

-- name: list_runs
-- Every filter is optional: a null parameter matches every row.
SELECT {{_run_columns}} FROM {{schema}}.pgqrs_runs
WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
  AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
  AND ($5::bigint IS NULL OR id < $5) AND ($7::bigint IS NULL OR parent_run_id = $7)
ORDER BY id DESC LIMIT $6

-- name: link_child_run
-- Names the parent of a run started by RunContext.child ($1 the child, $2 the parent, $3 whether
-- the parent's cancel cancels it). Idempotent: a replay of the parent links the same child again.
UPDATE {{schema}}.pgqrs_runs SET parent_run_id = $2, cancel_with_parent = $3
WHERE id = $1 AND (parent_run_id IS NULL OR parent_run_id = $2)

-- name: children_cancelled_with_parent
-- The unfinished children of $1 that its cancel cancels; the statuses are those
-- RunStatus.isFinished() names.
SELECT id FROM {{schema}}.pgqrs_runs
WHERE parent_run_id = $1 AND cancel_with_parent AND status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')
ORDER BY id

-- name: purge_finished_runs
-- $2 retention in milliseconds, $3 the most runs. The statuses are those RunStatus.isFinished()
-- names, the runs this purge is for by its contract (and the partial index's), not a transition. Steps and signals are deleted explicitly (not
-- left to ON DELETE CASCADE) so that they are counted; the cascade then finds nothing left. Events
-- are deleted with them (not counted: the report predates them).
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT r.id FROM {{schema}}.pgqrs_runs r
    WHERE r.status IN ('SUCCESS', 'ERROR', 'CANCELLED')
      AND r.finished_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
    ORDER BY r.finished_at
    LIMIT $3
    FOR UPDATE OF r SKIP LOCKED),
steps AS (DELETE FROM {{schema}}.pgqrs_steps s USING victims v WHERE s.run_id = v.id RETURNING 1),
signals AS (DELETE FROM {{schema}}.pgqrs_signals g USING victims v WHERE g.run_id = v.id RETURNING 1),
events AS (DELETE FROM {{schema}}.pgqrs_run_events e USING victims v WHERE e.run_id = v.id RETURNING 1),
runs AS (DELETE FROM {{schema}}.pgqrs_runs r USING victims v WHERE r.id = v.id RETURNING 1)
SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM steps) AS steps,
       (SELECT count(*) FROM signals) AS signals

-- name: uncancelled_children
-- The run reaper's cascade repair ($1 the most, $2 the parent's statuses, $3 the child's; the
-- engine's state machine names both): children linked with cancel_with_parent whose parent is
-- cancelled or being cancelled and that no cancel has reached. Through the parent index.
SELECT c.id, c.parent_run_id FROM {{schema}}.pgqrs_runs c JOIN {{schema}}.pgqrs_runs p ON p.id = c.parent_run_id
WHERE c.parent_run_id IS NOT NULL AND c.cancel_with_parent AND c.status = ANY($3::text[])
  AND p.status = ANY($2::text[])
ORDER BY c.id
LIMIT $1

-- name: reap_runs
-- $2 the most runs, $3 the channel announcing finished runs at commit (null: the driver announces
-- the run_ids returned, after commit), $4 and $5 the reap table's sources
-- and targets. Runs no worker will finish, if their status is a source: past their deadline while
-- nobody holds their message (a worker holding one enforces the deadline itself), or whose
-- message was dead-lettered. Each takes its target; the error is recorded (why it was reaped) only
-- by a run that ends ERROR, as finishing records it, and a run that ends otherwise keeps its own.
-- Their live messages are archived (moved, see _archive_moved); the announcements are delivered at
-- commit.
WITH n AS (SELECT {{_now}} AS now),
due AS (
    SELECT r.id, r.message_id, coalesce(r.deadline_at <= n.now, false) AS timed_out,
           ($5::text[])[array_position($4::text[], r.status)] AS target
    FROM n, {{schema}}.pgqrs_runs r LEFT JOIN {{schema}}.pgqrs_messages m ON m.id = r.message_id
    WHERE r.status = ANY($4::text[])
      AND ((r.deadline_at <= n.now
            AND (m.id IS NULL OR m.state <> 'live' OR m.lease_token IS NULL OR m.visible_at <= n.now))
           OR m.state = 'dead')
    ORDER BY r.id
    LIMIT $2
    FOR UPDATE OF r SKIP LOCKED),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    USING due
    WHERE m.id = due.message_id AND m.state = 'live'
    RETURNING m.*, false AS keep_lease),
arch AS ({{_archive_moved}} RETURNING id),
upd AS (
    UPDATE {{schema}}.pgqrs_runs r
    SET status = due.target,
        error = CASE WHEN due.target <> 'ERROR' THEN r.error
                     WHEN due.timed_out THEN 'the run timed out: its deadline passed'
                     ELSE 'its trigger message was dead-lettered after repeated failed deliveries' END,
        finished_at = n.now, updated_at = n.now
    FROM due, n
    WHERE r.id = due.id
    RETURNING r.id),
note AS (SELECT pg_notify($3, id::text) FROM upd WHERE $3::text IS NOT NULL)
SELECT (SELECT count(*) FROM upd) AS failed, (SELECT count(*) FROM note) AS notified,
       (SELECT array_agg(id) FROM upd) AS run_ids,
       (SELECT count(*) FROM arch) AS archived

-- name: restart_run
-- An operator's restart of the locked run $2 from $4 to $5 (its restart table's target), in one
-- statement: its step records other than SUCCESS deleted, a new visible message on the queue $3
-- linked to it, its outcome cleared and its deadline its timeout again from now. No row when the
-- queue is gone (nothing is changed then).
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $3),
m AS (
    INSERT INTO {{schema}}.pgqrs_messages (queue_id, payload, enqueued_at, visible_at, due_at)
    SELECT q.id, jsonb_build_object('run_id', $2::bigint), n.now, n.now, n.now FROM q, n
    RETURNING id),
gone AS (
    DELETE FROM {{schema}}.pgqrs_steps s
    WHERE s.run_id = $2 AND s.status <> 'SUCCESS' AND EXISTS (SELECT 1 FROM m)
    RETURNING 1),
u AS (
    UPDATE {{schema}}.pgqrs_runs r
    SET status = $5, output = NULL, error = NULL, finished_at = NULL, failures = 0, awaited = true,
        message_id = (SELECT id FROM m), updated_at = n.now,
        deadline_at = CASE WHEN r.deadline_at IS NULL THEN NULL ELSE n.now + (r.deadline_at - r.created_at) END
    FROM n
    WHERE r.id = $2 AND r.status = $4 AND EXISTS (SELECT 1 FROM m)
    RETURNING r.id)
SELECT (SELECT count(*) FROM u) AS restarted, (SELECT count(*) FROM gone) AS cleared

-- name: fork_run
-- An operator's fork of run $2 (read under its lock) from its step $3, in one statement: a new
-- QUEUED run of the same workflow, version and input on the queue $4 (its deadline the original's
-- timeout from now), its message, and copies of the original's SUCCESS steps completed before $3
-- (a completion number below its; every completed one when $3 itself never completed) with their
-- events. The counts tell a missing step or queue apart; nothing is inserted then.
WITH n AS (SELECT {{_now}} AS now),
o AS (SELECT * FROM {{schema}}.pgqrs_runs WHERE id = $2),
f AS (SELECT s.completion FROM {{schema}}.pgqrs_steps s WHERE s.run_id = $2 AND s.step_id = $3),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $4),
ids AS (SELECT nextval(pg_get_serial_sequence('{{schema_literal}}.pgqrs_runs', 'id')) AS run_id,
               nextval(pg_get_serial_sequence('{{schema_literal}}.pgqrs_messages', 'id')) AS message_id
        FROM q, o, f),
ins AS (
    INSERT INTO {{schema}}.pgqrs_runs (id, workflow, status, input, message_id, created_at, updated_at,
                                       deadline_at, version, awaited, forked_from)
    OVERRIDING SYSTEM VALUE
    SELECT ids.run_id, o.workflow, 'QUEUED', o.input, ids.message_id, n.now, n.now,
           CASE WHEN o.deadline_at IS NULL THEN NULL ELSE n.now + (o.deadline_at - o.created_at) END, o.version, true,
           o.id
    FROM ids, o, n
    RETURNING {{_run_columns}}),
m AS (
    INSERT INTO {{schema}}.pgqrs_messages (id, queue_id, payload, enqueued_at, visible_at, due_at)
    OVERRIDING SYSTEM VALUE
    SELECT ids.message_id, q.id, jsonb_build_object('run_id', ids.run_id), n.now, n.now, n.now
    FROM ids, q, n
    RETURNING id),
copied AS (
    INSERT INTO {{schema}}.pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, started_at,
                                        updated_at, finished_at, position, completion)
    SELECT ins.id, s.step_id, s.status, s.output, s.output_type, s.error, s.attempts, s.started_at, n.now,
           s.finished_at, s.position, s.completion
    FROM ins, n, f, {{schema}}.pgqrs_steps s
    WHERE s.run_id = $2 AND s.status = 'SUCCESS' AND s.completion > 0
      AND (f.completion = 0 OR s.completion < f.completion)
    RETURNING position),
events AS (
    INSERT INTO {{schema}}.pgqrs_run_events (run_id, key, position, value, created_at)
    SELECT ins.id, e.key, e.position, e.value, e.created_at
    FROM ins, {{schema}}.pgqrs_run_events e
    WHERE e.run_id = $2 AND e.position IN (SELECT position FROM copied)
    ORDER BY e.seq
    RETURNING 1)
SELECT ins.*, (SELECT count(*) FROM f) AS step_found, (SELECT count(*) FROM q) AS queue_found,
       (SELECT count(*) FROM copied) AS copied, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM m) AS enqueued
FROM (SELECT 1) AS one LEFT JOIN ins ON true
