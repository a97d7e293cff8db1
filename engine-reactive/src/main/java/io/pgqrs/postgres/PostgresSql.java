package io.pgqrs.postgres;

/**
 * Every SQL statement of the PostgreSQL backend, in one place. Built once per schema: {@code S.}
 * stands for the quoted schema, so every statement is schema-qualified. {@code NOW} is the clock
 * override parameter {@code $1} falling back to the transaction's clock.
 */
final class PostgresSql {

  private static final String NOW = "coalesce($1::timestamptz, now())";

  /** Columns of a message row, with its queue name; {@code m} is the message, {@code q} its queue. */
  private static final String MESSAGE_COLUMNS = """
      m.id, q.name AS queue, m.payload::text AS payload, m.state, m.priority, m.attempts, m.enqueued_at, \
      m.visible_at, m.lease_token, m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at""";

  /** The same columns read from a data-modifying CTE {@code m} with the queue name as {@code $2}. */
  private static final String RETURNED_MESSAGE_COLUMNS = """
      m.id, $2::text AS queue, m.payload::text AS payload, m.state, m.priority, m.attempts, m.enqueued_at, \
      m.visible_at, m.lease_token, m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at""";

  private static final String WORKER_COLUMNS = """
      w.id, w.name, q.name AS queue, w.hostname, w.pid, w.status, w.started_at, w.heartbeat_at, w.stopped_at""";

  private static final String LIVE_LEASE = "m.state = 'live' AND m.lease_token IS NOT NULL AND m.visible_at > n.now";

  final String installLock = "SELECT pg_advisory_xact_lock(hashtext('pgqrs.install.' || $1))";
  final String schemaExists = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present";
  final String createSchema;
  final String createMigrationsTable;
  final String migrationsTableExists = "SELECT to_regclass($1) IS NOT NULL AS present";
  final String appliedMigrations;
  final String recordMigration;
  final String relationExists = "SELECT to_regclass($1) IS NOT NULL AS present";
  final String schemaCreatedByInstall;
  final String dropTables;
  final String dropSchemaIfEmpty;

  final String createQueue;
  final String findQueue;
  final String listQueues;
  final String purgeQueue;
  final String lockQueue;
  final String countQueueUse;
  final String deleteQueue;

  final String enqueue;
  final String findLiveByDedupKeys;
  final String claim;
  final String archive;
  final String archiveMany;
  final String delete;
  final String release;
  final String extend;
  final String deadLetter;
  final String findMessage;
  final String untilNextVisible;
  final String listMessages;
  final String replayDead;
  final String purgeArchived;
  final String purgeDead;

  final String registerWorker;
  final String heartbeat;
  final String setWorkerStatus;
  final String lockWorker;
  final String countWorkerLeases;
  final String releaseWorkerLeases;
  final String stopWorker;
  final String deleteWorker;
  final String findWorker;
  final String listWorkers;
  final String workerHealth;

  final String queueMetrics;

  final String notifyChannels;

  PostgresSql(String quotedSchema) {
    String s = quotedSchema + ".";
    createSchema = "CREATE SCHEMA " + quotedSchema;
    createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS S.pgqrs_migrations (
            version        integer PRIMARY KEY,
            name           text NOT NULL,
            applied_at     timestamptz NOT NULL DEFAULT now(),
            created_schema boolean NOT NULL DEFAULT false
        )""".replace("S.", s);
    appliedMigrations = "SELECT version FROM S.pgqrs_migrations ORDER BY version".replace("S.", s);
    recordMigration =
        "INSERT INTO S.pgqrs_migrations (version, name, created_schema) VALUES ($1, $2, $3)".replace("S.", s);
    schemaCreatedByInstall =
        "SELECT coalesce(bool_or(created_schema), false) AS created FROM S.pgqrs_migrations".replace("S.", s);
    dropTables = """
        DROP TABLE IF EXISTS S.pgqrs_signals, S.pgqrs_steps, S.pgqrs_runs, S.pgqrs_workflows, S.pgqrs_sweeps,
            S.pgqrs_messages, S.pgqrs_workers, S.pgqrs_queues, S.pgqrs_migrations"""
        .replace("S.", s);
    // A failed DROP SCHEMA would abort the transaction; the DO block keeps it alive when the user
    // has put objects of their own in the schema.
    dropSchemaIfEmpty = """
        DO $$ BEGIN EXECUTE 'DROP SCHEMA %s'; EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$"""
        .formatted(quotedSchema.replace("'", "''"));

    createQueue = """
        INSERT INTO S.pgqrs_queues (name, max_attempts, created_at) VALUES ($2, $3, NOW)
        ON CONFLICT (name) DO NOTHING
        RETURNING id, name, max_attempts, created_at""".replace("NOW", NOW).replace("S.", s);
    findQueue = "SELECT id, name, max_attempts, created_at FROM S.pgqrs_queues WHERE name = $1".replace("S.", s);
    listQueues = "SELECT id, name, max_attempts, created_at FROM S.pgqrs_queues ORDER BY name".replace("S.", s);
    purgeQueue = """
        WITH q AS (SELECT id FROM S.pgqrs_queues WHERE name = $1),
        d AS (DELETE FROM S.pgqrs_messages m WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'live' RETURNING 1)
        SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM d) AS deleted""".replace("S.", s);
    lockQueue = "SELECT id FROM S.pgqrs_queues WHERE name = $1 FOR UPDATE".replace("S.", s);
    countQueueUse = """
        SELECT (SELECT count(*) FROM S.pgqrs_messages WHERE queue_id = $1 AND state = 'live') AS live,
               (SELECT count(*) FROM S.pgqrs_workers WHERE queue_id = $1 AND status <> 'stopped') AS workers"""
        .replace("S.", s);
    deleteQueue = "DELETE FROM S.pgqrs_queues WHERE id = $1".replace("S.", s);

    // One statement for one message or a whole batch: arrays unnested in input order, so the ids
    // of inserted rows ascend in input order. Dedup conflicts insert nothing and return no row.
    enqueue = """
        WITH n AS (SELECT NOW AS now),
        q AS (SELECT id FROM S.pgqrs_queues WHERE name = $2),
        ins AS (
            INSERT INTO S.pgqrs_messages (queue_id, payload, priority, enqueued_at, visible_at, dedup_key)
            SELECT q.id, t.payload::jsonb, t.priority, n.now,
                   greatest(n.now, coalesce(to_timestamp(t.visible_us / 1000000.0),
                                            n.now + t.delay_ms * interval '1 millisecond')),
                   t.dedup_key
            FROM q, n,
                 unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::integer[])
                     WITH ORDINALITY AS t(payload, delay_ms, visible_us, dedup_key, priority, ord)
            ORDER BY t.ord
            ON CONFLICT (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL DO NOTHING
            RETURNING id, dedup_key),
        -- Delivered at commit; one per statement however many rows it inserted.
        note AS (SELECT pg_notify($8, '') FROM q WHERE EXISTS (SELECT 1 FROM ins))
        SELECT (SELECT id FROM q) AS queue_id, (SELECT count(*) FROM note) AS notified, ins.id, ins.dedup_key
        FROM (SELECT 1) AS one LEFT JOIN ins ON true
        ORDER BY ins.id""".replace("NOW", NOW).replace("S.", s);
    findLiveByDedupKeys = """
        SELECT id, dedup_key FROM S.pgqrs_messages
        WHERE queue_id = $1 AND state = 'live' AND dedup_key = ANY($2::text[])""".replace("S.", s);

    // SKIP LOCKED picks rows no other claimer holds. The queue id and clock come from scalar
    // subqueries so the planner walks the claim index in order instead of sorting the queue.
    // Exhausted rows are dead-lettered in the same statement instead of delivered. The 'q' row
    // tells an empty queue from an unknown one.
    claim = """
        WITH n AS (SELECT NOW AS now),
        q AS (SELECT id, max_attempts FROM S.pgqrs_queues WHERE name = $2),
        c AS (
            SELECT m.id, m.attempts >= (SELECT max_attempts FROM q) AS exhausted
            FROM S.pgqrs_messages m
            WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'live' AND m.visible_at <= (SELECT now FROM n)
            ORDER BY m.priority DESC, m.visible_at, m.id
            LIMIT $3
            FOR UPDATE OF m SKIP LOCKED),
        dead AS (
            UPDATE S.pgqrs_messages m
            SET state = 'dead', dead_at = n.now, lease_token = NULL, lease_owner = NULL,
                last_error = coalesce(m.last_error, 'max attempts reached')
            FROM c, n WHERE m.id = c.id AND c.exhausted
            RETURNING m.*),
        claimed AS (
            UPDATE S.pgqrs_messages m
            SET attempts = m.attempts + 1, lease_token = gen_random_uuid(), lease_owner = $4,
                visible_at = n.now + $5 * interval '1 millisecond'
            FROM c, n WHERE m.id = c.id AND NOT c.exhausted
            RETURNING m.*)
        SELECT 'q' AS kind, NULL::bigint AS id, NULL::text AS queue, NULL::text AS payload, NULL::text AS state,
               NULL::integer AS priority, NULL::integer AS attempts, NULL::timestamptz AS enqueued_at,
               NULL::timestamptz AS visible_at, NULL::uuid AS lease_token, NULL::bigint AS lease_owner,
               NULL::text AS dedup_key, NULL::text AS last_error, NULL::timestamptz AS archived_at,
               NULL::timestamptz AS dead_at
        FROM q
        UNION ALL SELECT 'c', RMC FROM claimed m
        UNION ALL SELECT 'd', RMC FROM dead m"""
        .replace("RMC", RETURNED_MESSAGE_COLUMNS).replace("NOW", NOW).replace("S.", s);

    String fenced = "m.id = $2 AND m.lease_token = $3 AND m.state = 'live' AND m.visible_at > NOW";
    archive = """
        UPDATE S.pgqrs_messages m SET state = 'archived', archived_at = NOW
        WHERE FENCED""".replace("FENCED", fenced).replace("NOW", NOW).replace("S.", s);
    archiveMany = """
        UPDATE S.pgqrs_messages m SET state = 'archived', archived_at = NOW
        FROM unnest($2::bigint[], $3::text[]) AS t(id, token)
        WHERE m.id = t.id AND m.lease_token = t.token::uuid AND m.state = 'live' AND m.visible_at > NOW"""
        .replace("NOW", NOW).replace("S.", s);
    delete = "DELETE FROM S.pgqrs_messages m WHERE FENCED".replace("FENCED", fenced).replace("NOW", NOW)
        .replace("S.", s);
    release = """
        UPDATE S.pgqrs_messages m
        SET visible_at = NOW + $4 * interval '1 millisecond', lease_token = NULL, lease_owner = NULL,
            last_error = coalesce($5, m.last_error)
        WHERE FENCED""".replace("FENCED", fenced).replace("NOW", NOW).replace("S.", s);
    extend = """
        UPDATE S.pgqrs_messages m SET visible_at = NOW + $4 * interval '1 millisecond'
        WHERE FENCED
        RETURNING m.visible_at""".replace("FENCED", fenced).replace("NOW", NOW).replace("S.", s);
    deadLetter = """
        UPDATE S.pgqrs_messages m
        SET state = 'dead', dead_at = NOW, last_error = $4, lease_token = NULL, lease_owner = NULL
        WHERE FENCED""".replace("FENCED", fenced).replace("NOW", NOW).replace("S.", s);
    // The min runs over the claim index's live rows of one queue; it is asked only when idle.
    untilNextVisible = """
        WITH n AS (SELECT NOW AS now)
        SELECT (extract(epoch FROM (min(m.visible_at) - (SELECT now FROM n))) * 1000000)::bigint AS micros
        FROM S.pgqrs_messages m
        WHERE m.queue_id = (SELECT id FROM S.pgqrs_queues WHERE name = $2) AND m.state = 'live'"""
        .replace("NOW", NOW).replace("S.", s);
    findMessage = """
        SELECT MC FROM S.pgqrs_messages m JOIN S.pgqrs_queues q ON q.id = m.queue_id WHERE m.id = $1"""
        .replace("MC", MESSAGE_COLUMNS).replace("S.", s);
    listMessages = """
        SELECT MC FROM S.pgqrs_messages m JOIN S.pgqrs_queues q ON q.id = m.queue_id
        WHERE m.queue_id = (SELECT id FROM S.pgqrs_queues WHERE name = $1) AND m.state = $2 AND m.id > $3
        ORDER BY m.id LIMIT $4""".replace("MC", MESSAGE_COLUMNS).replace("S.", s);
    // A replayed message keeps its dedup key unless a live message (or an earlier replayed one)
    // already holds it: replay never fails on the unique index.
    replayDead = """
        WITH n AS (SELECT NOW AS now),
        q AS (SELECT id FROM S.pgqrs_queues WHERE name = $2),
        r AS (
            SELECT m.id,
                   m.dedup_key IS NOT NULL
                   AND row_number() OVER (PARTITION BY m.dedup_key ORDER BY m.id) = 1
                   AND NOT EXISTS (SELECT 1 FROM S.pgqrs_messages l
                                   WHERE l.queue_id = m.queue_id AND l.state = 'live'
                                     AND l.dedup_key = m.dedup_key) AS keep_key
            FROM S.pgqrs_messages m
            WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'dead' AND ($3::bigint[] IS NULL OR m.id = ANY($3::bigint[]))),
        u AS (
            UPDATE S.pgqrs_messages m
            SET state = 'live', attempts = 0, visible_at = n.now, lease_token = NULL, lease_owner = NULL,
                dead_at = NULL, dedup_key = CASE WHEN r.keep_key THEN m.dedup_key END
            FROM r, n WHERE m.id = r.id AND m.state = 'dead'
            RETURNING 1),
        note AS (SELECT pg_notify($4, '') FROM q WHERE EXISTS (SELECT 1 FROM u))
        SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM u) AS replayed,
               (SELECT count(*) FROM note) AS notified"""
        .replace("NOW", NOW).replace("S.", s);
    String purgeTemplate = """
        WITH n AS (SELECT NOW AS now),
        q AS (SELECT id FROM S.pgqrs_queues WHERE name = $2),
        victims AS (
            SELECT m.id FROM S.pgqrs_messages m
            WHERE m.queue_id = (SELECT id FROM q) AND m.state = '{state}'
              AND ($3::bigint IS NULL OR m.{at} < (SELECT now FROM n) - $3 * interval '1 millisecond')
            ORDER BY m.id
            LIMIT CASE WHEN $4 > 0 THEN $4 END),
        d AS (DELETE FROM S.pgqrs_messages m USING victims v WHERE m.id = v.id RETURNING 1)
        SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM d) AS deleted"""
        .replace("NOW", NOW).replace("S.", s);
    purgeArchived = purgeTemplate.replace("{state}", "archived").replace("{at}", "archived_at");
    purgeDead = purgeTemplate.replace("{state}", "dead").replace("{at}", "dead_at");

    registerWorker = """
        WITH n AS (SELECT NOW AS now),
        q AS (SELECT (SELECT id FROM S.pgqrs_queues WHERE name = $3) AS id),
        w AS (
            INSERT INTO S.pgqrs_workers (name, queue_id, hostname, pid, status, started_at, heartbeat_at)
            SELECT $2, q.id, $4, $5, 'ready', n.now, n.now FROM q, n
            WHERE $3::text IS NULL OR q.id IS NOT NULL
            ON CONFLICT (name) DO NOTHING
            RETURNING *)
        SELECT WC FROM w LEFT JOIN S.pgqrs_queues q ON q.id = w.queue_id"""
        .replace("WC", WORKER_COLUMNS).replace("NOW", NOW).replace("S.", s);
    heartbeat = """
        UPDATE S.pgqrs_workers SET heartbeat_at = greatest(heartbeat_at, NOW) WHERE id = $2 RETURNING status"""
        .replace("NOW", NOW).replace("S.", s);
    setWorkerStatus = """
        WITH u AS (UPDATE S.pgqrs_workers SET status = $2 WHERE id = $1 AND status <> 'stopped' RETURNING *),
        w AS (SELECT * FROM u
              UNION ALL
              SELECT * FROM S.pgqrs_workers WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u))
        SELECT WC FROM w LEFT JOIN S.pgqrs_queues q ON q.id = w.queue_id"""
        .replace("WC", WORKER_COLUMNS).replace("S.", s);
    lockWorker = "SELECT status FROM S.pgqrs_workers WHERE id = $1 FOR UPDATE".replace("S.", s);
    countWorkerLeases = """
        WITH n AS (SELECT NOW AS now)
        SELECT count(*) AS leases FROM S.pgqrs_messages m, n WHERE m.lease_owner = $2 AND LIVE_LEASE"""
        .replace("LIVE_LEASE", LIVE_LEASE).replace("NOW", NOW).replace("S.", s);
    releaseWorkerLeases = """
        WITH n AS (SELECT NOW AS now),
        r AS (
            UPDATE S.pgqrs_messages m SET visible_at = n.now, lease_token = NULL, lease_owner = NULL
            FROM n WHERE m.lease_owner = $2 AND LIVE_LEASE
            RETURNING 1)
        SELECT count(*) AS released FROM r""".replace("LIVE_LEASE", LIVE_LEASE).replace("NOW", NOW)
        .replace("S.", s);
    stopWorker = """
        UPDATE S.pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, NOW) WHERE id = $2"""
        .replace("NOW", NOW).replace("S.", s);
    deleteWorker = "DELETE FROM S.pgqrs_workers WHERE id = $1".replace("S.", s);
    findWorker = """
        SELECT WC FROM S.pgqrs_workers w LEFT JOIN S.pgqrs_queues q ON q.id = w.queue_id WHERE w.id = $1"""
        .replace("WC", WORKER_COLUMNS).replace("S.", s);
    listWorkers = """
        SELECT WC FROM S.pgqrs_workers w LEFT JOIN S.pgqrs_queues q ON q.id = w.queue_id
        WHERE $1::text IS NULL OR q.name = $1
        ORDER BY w.id""".replace("WC", WORKER_COLUMNS).replace("S.", s);
    workerHealth = """
        WITH n AS (SELECT NOW AS now)
        SELECT WC,
               (extract(epoch FROM (n.now - w.heartbeat_at)) * 1000)::bigint AS since_ms,
               (w.status <> 'stopped' AND w.heartbeat_at < n.now - $2 * interval '1 millisecond') AS stale,
               (SELECT count(*) FROM S.pgqrs_messages m WHERE m.lease_owner = w.id AND LIVE_LEASE) AS leases
        FROM n, S.pgqrs_workers w LEFT JOIN S.pgqrs_queues q ON q.id = w.queue_id
        ORDER BY w.id""".replace("WC", WORKER_COLUMNS).replace("LIVE_LEASE", LIVE_LEASE).replace("NOW", NOW)
        .replace("S.", s);

    queueMetrics = """
        WITH n AS (SELECT NOW AS now)
        SELECT q.name,
               count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at <= n.now) AS pending,
               count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NOT NULL)
                   AS leased,
               count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NULL)
                   AS delayed,
               count(m.id) FILTER (WHERE m.state = 'archived') AS archived,
               count(m.id) FILTER (WHERE m.state = 'dead') AS dead,
               (extract(epoch FROM (n.now - min(m.visible_at) FILTER (WHERE m.state = 'live'
                   AND m.visible_at <= n.now))) * 1000)::bigint AS oldest_pending_ms
        FROM n CROSS JOIN S.pgqrs_queues q LEFT JOIN S.pgqrs_messages m ON m.queue_id = q.id
        WHERE $2::text IS NULL OR q.name = $2
        GROUP BY q.name, n.now
        ORDER BY q.name""".replace("NOW", NOW).replace("S.", s);

    // Delivered at commit, like the enqueue's notification.
    notifyChannels = "SELECT pg_notify(c, '') FROM unnest($1::text[]) AS c";
  }
}
