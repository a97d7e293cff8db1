package io.pgqrs.postgres;

/**
 * The SQL of workflows, runs, steps and signals on PostgreSQL. {@code $1} is the optional clock in
 * every statement that reads it; {@code S.} is replaced by the quoted schema.
 */
final class PostgresWorkflowSql {

  private static final String NOW = "coalesce($1::timestamptz, now())";
  /** A paused run's message: far but finite, so "time until the next message" stays computable. */
  private static final String NEVER = "'9999-12-31 00:00:00+00'::timestamptz";

  static final String RUN_COLUMNS = """
      id, workflow, status, input::text AS input, output::text AS output, error, idempotency_key, attempts,
      failures, created_at, started_at, finished_at, deadline_at""";

  final String registerQueue;
  final String registerWorkflow;
  final String runByKey;
  final String beginRun;
  final String acquireStep;
  final String triggerRun;
  final String finishLeasedRun;
  final String finishStep;
  final String extendStep;
  final String takeSignal;
  final String lockRun;
  final String suspendMessage;
  final String countFailure;
  final String archiveUnleased;
  final String messageLeased;
  final String finishRun;
  final String insertSignal;
  final String wakeWaiting;
  final String wakeRun;
  final String setRunStatus;
  final String findRun;
  final String listRuns;
  final String listSteps;
  final String notify;

  PostgresWorkflowSql(String quotedSchema) {
    String s = quotedSchema + ".";
    registerQueue = """
        INSERT INTO S.pgqrs_queues (name, max_attempts, created_at) VALUES ($2, $3, NOW)
        ON CONFLICT (name) DO NOTHING""".replace("NOW", NOW).replace("S.", s);
    registerWorkflow = """
        INSERT INTO S.pgqrs_workflows (name, queue_id, created_at)
        SELECT $2, id, NOW FROM S.pgqrs_queues WHERE name = $2
        ON CONFLICT (name) DO NOTHING""".replace("NOW", NOW).replace("S.", s);
    // One statement: both ids are drawn first, so the run row names its message and the message's
    // payload names its run without a second write. An idempotency conflict inserts neither (the
    // drawn ids are skipped) and returns no run id.
    triggerRun = """
        WITH n AS (SELECT NOW AS now),
        w AS (SELECT queue_id FROM S.pgqrs_workflows WHERE name = $2),
        ids AS (SELECT nextval(pg_get_serial_sequence('S.pgqrs_runs', 'id')) AS run_id,
                       nextval(pg_get_serial_sequence('S.pgqrs_messages', 'id')) AS message_id
                FROM w),
        ins AS (
            INSERT INTO S.pgqrs_runs (id, workflow, status, input, idempotency_key, message_id, created_at, updated_at,
                                      deadline_at)
            OVERRIDING SYSTEM VALUE
            SELECT ids.run_id, $2, 'QUEUED', $3::jsonb, $4, ids.message_id, n.now, n.now,
                   n.now + $5 * interval '1 millisecond'
            FROM ids, n
            ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id, message_id),
        m AS (
            INSERT INTO S.pgqrs_messages (id, queue_id, payload, enqueued_at, visible_at)
            OVERRIDING SYSTEM VALUE
            SELECT ins.message_id, w.queue_id, jsonb_build_object('run_id', ins.id), n.now, n.now
            FROM ins, w, n
            RETURNING id),
        note AS (SELECT pg_notify($6, '') FROM m)
        SELECT (SELECT queue_id FROM w) AS queue_id, (SELECT id FROM ins) AS run_id,
               (SELECT count(*) FROM note) AS notified""".replace("NOW", NOW).replace("S.", s);
    runByKey = "SELECT id FROM S.pgqrs_runs WHERE workflow = $1 AND idempotency_key = $2".replace("S.", s);
    // Only a run a worker may execute counts an attempt and gets its start time.
    beginRun = """
        UPDATE S.pgqrs_runs
        SET attempts = attempts + CASE WHEN status IN ('QUEUED', 'RUNNING') THEN 1 ELSE 0 END,
            started_at = CASE WHEN status IN ('QUEUED', 'RUNNING') THEN coalesce(started_at, NOW) ELSE started_at END,
            status = CASE WHEN status = 'QUEUED' THEN 'RUNNING' ELSE status END,
            updated_at = NOW
        WHERE id = $2
        RETURNING COLUMNS""".replace("COLUMNS", RUN_COLUMNS).replace("NOW", NOW).replace("S.", s);
    // One statement, in autocommit: the run's state, the upsert that takes the step's lease when
    // the run may go on and the step is takeable, and (when it is not taken) the step's record as
    // of the statement's snapshot. A recorded SUCCESS or ERROR never changes, so the snapshot is
    // exact for them; a concurrent insert of the same step waits on the primary key and then finds
    // the lease taken. A retry's due time is cleared on takeover, so wake_at comes back set only for
    // a sleep or signal wait begun earlier.
    acquireStep = """
        WITH n AS (SELECT NOW AS now),
        r AS (SELECT status, coalesce(deadline_at <= n.now, false) AS timed_out FROM S.pgqrs_runs, n WHERE id = $2),
        ins AS (
            INSERT INTO S.pgqrs_steps AS st (run_id, step_id, status, attempts, lease_token, lease_until, started_at, updated_at)
            SELECT $2, $3, 'RUNNING', 1, gen_random_uuid(), n.now + $4 * interval '1 millisecond', n.now, n.now
            FROM n, r WHERE r.status IN ('QUEUED', 'RUNNING') AND NOT r.timed_out
            ON CONFLICT (run_id, step_id) DO UPDATE
            SET status = 'RUNNING', attempts = st.attempts + 1, lease_token = excluded.lease_token,
                lease_until = excluded.lease_until, updated_at = excluded.updated_at,
                wake_at = CASE WHEN st.status = 'RETRY' THEN NULL ELSE st.wake_at END
            WHERE (st.status = 'RUNNING' AND st.lease_until <= excluded.updated_at)
               OR (st.status = 'RETRY' AND st.wake_at <= excluded.updated_at)
               OR st.status = 'WAITING'
            RETURNING st.lease_token, st.attempts, st.wake_at)
        SELECT r.status AS run_status, r.timed_out, ins.lease_token, ins.attempts AS taken_attempts,
               ins.wake_at AS taken_wake_at, s.status, s.output::text AS output, s.output_type, s.error, s.attempts,
               s.lease_until, s.wake_at, (SELECT now FROM n) AS now
        FROM (SELECT 1) AS one
        LEFT JOIN r ON true
        LEFT JOIN ins ON true
        LEFT JOIN S.pgqrs_steps s ON ins.lease_token IS NULL AND s.run_id = $2 AND s.step_id = $3"""
        .replace("NOW", NOW).replace("S.", s);
    finishStep = """
        UPDATE S.pgqrs_steps
        SET status = $5, output = $6::jsonb, output_type = $7, error = coalesce($8, error), wake_at = $9, awaiting = $10,
            lease_token = NULL, lease_until = NULL, updated_at = NOW,
            finished_at = CASE WHEN $5 IN ('SUCCESS', 'ERROR') THEN NOW END
        WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'"""
        .replace("NOW", NOW).replace("S.", s);
    extendStep = """
        WITH u AS (
            UPDATE S.pgqrs_steps SET lease_until = NOW + $5 * interval '1 millisecond'
            WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'
            RETURNING 1)
        SELECT (SELECT count(*) FROM u) AS held, (SELECT status FROM S.pgqrs_runs WHERE id = $2) AS run_status"""
        .replace("NOW", NOW).replace("S.", s);
    // One statement: the step is recorded only if its lease holds, and the signal is consumed only
    // if the step was recorded.
    takeSignal = """
        WITH sig AS (
            SELECT id, value FROM S.pgqrs_signals
            WHERE run_id = $2 AND name = $5 AND consumed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE),
        st AS (
            UPDATE S.pgqrs_steps
            SET status = 'SUCCESS', output = (SELECT value FROM sig), output_type = NULL, lease_token = NULL,
                lease_until = NULL, awaiting = NULL, wake_at = NULL, finished_at = NOW, updated_at = NOW
            WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'
              AND EXISTS (SELECT 1 FROM sig)
            RETURNING 1),
        c AS (
            UPDATE S.pgqrs_signals SET consumed_by = $3
            WHERE id = (SELECT id FROM sig) AND EXISTS (SELECT 1 FROM st)
            RETURNING value)
        SELECT (SELECT value::text FROM c) AS value, (SELECT count(*) FROM sig) AS found,
               (SELECT count(*) FROM st) AS recorded""".replace("NOW", NOW).replace("S.", s);
    // Signals, suspends and control serialise on the run row, each reading after the lock with a
    // fresh statement, so a signal sent while a worker suspends is never missed.
    lockRun = "SELECT COLUMNS, message_id FROM S.pgqrs_runs WHERE id = $1 FOR UPDATE"
        .replace("COLUMNS", RUN_COLUMNS).replace("S.", s);
    suspendMessage = """
        WITH n AS (SELECT NOW AS now), r AS (SELECT id, status, deadline_at FROM S.pgqrs_runs WHERE id = $2)
        UPDATE S.pgqrs_messages m
        SET lease_token = NULL, lease_owner = NULL, attempts = 0,
            visible_at = CASE
                WHEN r.status = 'CANCELLING' THEN n.now
                WHEN r.status = 'PAUSED' THEN coalesce(r.deadline_at, NEVER)
                WHEN EXISTS (
                    SELECT 1 FROM S.pgqrs_signals g JOIN S.pgqrs_steps st
                        ON st.run_id = g.run_id AND st.status = 'WAITING' AND st.awaiting = g.name
                    WHERE g.run_id = r.id AND g.consumed_by IS NULL) THEN n.now
                ELSE least(greatest(coalesce($5::timestamptz, n.now), n.now), coalesce(r.deadline_at, NEVER))
            END
        FROM n, r
        WHERE m.id = $3 AND m.lease_token = $4 AND m.state = 'live' AND m.visible_at > n.now"""
        .replace("NEVER", NEVER).replace("NOW", NOW).replace("S.", s);
    countFailure = "UPDATE S.pgqrs_runs SET failures = failures + 1, updated_at = NOW WHERE id = $2"
        .replace("NOW", NOW).replace("S.", s);
    // A message nobody holds: never leased, released, or whose lease has expired.
    archiveUnleased = """
        UPDATE S.pgqrs_messages
        SET state = 'archived', archived_at = NOW, lease_token = NULL, lease_owner = NULL
        WHERE id = $2 AND state = 'live' AND (lease_token IS NULL OR visible_at <= NOW)"""
        .replace("NOW", NOW).replace("S.", s);
    messageLeased = """
        SELECT count(*) AS leased FROM S.pgqrs_messages
        WHERE id = $2 AND state = 'live' AND lease_token IS NOT NULL AND visible_at > NOW"""
        .replace("NOW", NOW).replace("S.", s);
    finishRun = """
        UPDATE S.pgqrs_runs
        SET status = CASE WHEN status = 'CANCELLING' THEN 'CANCELLED' ELSE $3 END,
            output = CASE WHEN status = 'CANCELLING' THEN NULL ELSE $4::jsonb END,
            error = CASE WHEN status = 'CANCELLING' THEN error ELSE $5 END,
            finished_at = NOW, updated_at = NOW
        WHERE id = $2 AND status IN ('QUEUED', 'RUNNING', 'PAUSED', 'CANCELLING')
        RETURNING status"""
        .replace("NOW", NOW).replace("S.", s);
    insertSignal = "INSERT INTO S.pgqrs_signals (run_id, name, value, sent_at) VALUES ($2, $3, $4::jsonb, NOW)"
        .replace("NOW", NOW).replace("S.", s);
    wakeWaiting = """
        UPDATE S.pgqrs_messages SET visible_at = NOW
        WHERE id = $2 AND state = 'live' AND lease_token IS NULL AND visible_at > NOW
          AND EXISTS (SELECT 1 FROM S.pgqrs_steps WHERE run_id = $3 AND status = 'WAITING' AND awaiting = $4)"""
        .replace("NOW", NOW).replace("S.", s);
    wakeRun = """
        UPDATE S.pgqrs_messages SET visible_at = NOW
        WHERE id = $2 AND state = 'live' AND lease_token IS NULL AND visible_at > NOW"""
        .replace("NOW", NOW).replace("S.", s);
    // The hot path of finishing, in one statement: lock the unfinished run, archive its message
    // fenced by the lease, finish the run only if the archive happened, announce it.
    finishLeasedRun = """
        WITH n AS (SELECT NOW AS now),
        r AS (SELECT id, message_id FROM S.pgqrs_runs
              WHERE id = $2 AND status IN ('QUEUED', 'RUNNING', 'PAUSED', 'CANCELLING') FOR UPDATE),
        a AS (
            UPDATE S.pgqrs_messages m
            SET state = 'archived', archived_at = n.now
            FROM r, n
            WHERE m.id = r.message_id AND m.lease_token = $3 AND m.state = 'live' AND m.visible_at > n.now
            RETURNING m.id),
        u AS (
            UPDATE S.pgqrs_runs x
            SET status = CASE WHEN x.status = 'CANCELLING' THEN 'CANCELLED' ELSE $4 END,
                output = CASE WHEN x.status = 'CANCELLING' THEN NULL ELSE $5::jsonb END,
                error = CASE WHEN x.status = 'CANCELLING' THEN x.error ELSE $6 END,
                finished_at = n.now, updated_at = n.now
            FROM n
            WHERE x.id = $2 AND EXISTS (SELECT 1 FROM a)
            RETURNING x.id, x.status),
        note AS (SELECT pg_notify($7, id::text) FROM u)
        SELECT (SELECT status FROM u) AS status, (SELECT count(*) FROM note) AS notified"""
        .replace("NOW", NOW).replace("S.", s);
    setRunStatus = """
        UPDATE S.pgqrs_runs
        SET status = $3, error = coalesce($4, error),
            finished_at = CASE WHEN $3 = 'CANCELLED' THEN NOW ELSE finished_at END, updated_at = NOW
        WHERE id = $2""".replace("NOW", NOW).replace("S.", s);
    findRun = "SELECT COLUMNS FROM S.pgqrs_runs WHERE id = $1".replace("COLUMNS", RUN_COLUMNS).replace("S.", s);
    listRuns = """
        SELECT COLUMNS FROM S.pgqrs_runs
        WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ($5::bigint IS NULL OR id < $5)
        ORDER BY id DESC LIMIT $6""".replace("COLUMNS", RUN_COLUMNS).replace("S.", s);
    listSteps = """
        SELECT run_id, step_id, status, attempts, output::text AS output, error, wake_at, started_at, updated_at,
               finished_at
        FROM S.pgqrs_steps WHERE run_id = $1 ORDER BY seq""".replace("S.", s);
    notify = "SELECT pg_notify($1, $2)";
  }
}
