-- pgqrs on SQLite: the statements of pgqrs_schedules, in step with PostgreSQL's schedules.sql. The
-- engine parses the cron expressions and computes every next_fire_at; these statements only store
-- and compare them. Booleans are 0 or 1.

-- name: _schedule_columns
name, cron, zone, target_kind, target, version, payload, timeout_ms, missed_max, paused, next_fire_at,
last_fired_at, created_at, updated_at

-- name: current_time
SELECT coalesce(?1, {{_now}}) AS now

-- name: create_schedule
-- ?2 name, ?3 cron, ?4 zone, ?5 target kind, ?6 target, ?7 version, ?8 payload, ?9 timeout in
-- milliseconds, ?10 missed-tick bound, ?11 first tick. A name taken inserts nothing, returns no row.
INSERT INTO pgqrs_schedules (name, cron, zone, target_kind, target, version, payload, timeout_ms, missed_max,
                             next_fire_at, created_at, updated_at)
VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, coalesce(?1, {{_now}}), coalesce(?1, {{_now}}))
ON CONFLICT (name) DO NOTHING
RETURNING {{_schedule_columns}}

-- name: declare_schedule
-- create_schedule's parameters; an existing schedule takes the new definition, keeps its paused
-- flag and, unless its cron or zone changed, its next tick.
INSERT INTO pgqrs_schedules (name, cron, zone, target_kind, target, version, payload, timeout_ms, missed_max,
                                  next_fire_at, created_at, updated_at)
VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, coalesce(?1, {{_now}}), coalesce(?1, {{_now}}))
ON CONFLICT (name) DO UPDATE
SET cron = excluded.cron, zone = excluded.zone, target_kind = excluded.target_kind, target = excluded.target,
    version = excluded.version, payload = excluded.payload, timeout_ms = excluded.timeout_ms,
    missed_max = excluded.missed_max,
    next_fire_at = CASE WHEN pgqrs_schedules.cron <> excluded.cron OR pgqrs_schedules.zone <> excluded.zone THEN excluded.next_fire_at
                        ELSE pgqrs_schedules.next_fire_at END,
    updated_at = CASE WHEN pgqrs_schedules.cron IS NOT excluded.cron OR pgqrs_schedules.zone IS NOT excluded.zone
                           OR pgqrs_schedules.target_kind IS NOT excluded.target_kind OR pgqrs_schedules.target IS NOT excluded.target
                           OR pgqrs_schedules.version IS NOT excluded.version OR pgqrs_schedules.payload IS NOT excluded.payload
                           OR pgqrs_schedules.timeout_ms IS NOT excluded.timeout_ms OR pgqrs_schedules.missed_max IS NOT excluded.missed_max
                      THEN excluded.updated_at ELSE pgqrs_schedules.updated_at END
RETURNING {{_schedule_columns}}

-- name: find_schedule
SELECT {{_schedule_columns}} FROM pgqrs_schedules WHERE name = ?1

-- name: list_schedules
SELECT {{_schedule_columns}} FROM pgqrs_schedules ORDER BY name

-- name: pause_schedule
-- ?2 name, ?3 paused (0 or 1), ?4 the next tick a resume takes.
UPDATE pgqrs_schedules
SET next_fire_at = CASE WHEN paused = 1 AND ?3 = 0 THEN coalesce(?4, next_fire_at) ELSE next_fire_at END,
    updated_at = CASE WHEN paused <> ?3 THEN coalesce(?1, {{_now}}) ELSE updated_at END,
    paused = ?3
WHERE name = ?2
RETURNING {{_schedule_columns}}

-- name: delete_schedule
DELETE FROM pgqrs_schedules WHERE name = ?1

-- name: due_schedules
-- The schedules due at the clock, earliest first, at most ?2, each row with the clock and the
-- earliest next tick still ahead of it; one row of nulls but those when none is due.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now),
due AS (
    SELECT {{_schedule_columns}} FROM pgqrs_schedules
    WHERE paused = 0 AND next_fire_at <= (SELECT now FROM n)
    ORDER BY next_fire_at, name
    LIMIT ?2)
SELECT n.now AS now,
       (SELECT min(next_fire_at) FROM pgqrs_schedules WHERE paused = 0 AND next_fire_at > n.now) AS ahead,
       due.*
FROM n LEFT JOIN due ON 1
ORDER BY due.next_fire_at, due.name

-- name: advance_schedule
-- The compare-and-set that fires ticks: moves next_fire_at from the tick the engine read (?2) to
-- the one after the ticks it fires (?3), recording the newest fired (?4, null when none fires). The
-- one writer runs it in the transaction that creates the ticks' runs or messages.
UPDATE pgqrs_schedules
SET next_fire_at = ?3, last_fired_at = coalesce(?4, last_fired_at)
WHERE name = ?1 AND next_fire_at = ?2 AND paused = 0
RETURNING target_kind, target, version, payload, timeout_ms
