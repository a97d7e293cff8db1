-- pgqrs on PostgreSQL: the statements of pgqrs_schedules. The engine parses the cron expressions
-- and computes every next_fire_at; these statements only store and compare them.

-- name: _schedule_columns
name, cron, zone, target_kind, target, version, payload::text AS payload, timeout_ms, missed_max, paused,
next_fire_at, last_fired_at, created_at, updated_at

-- name: current_time
SELECT {{_now}} AS now

-- name: create_schedule
-- $2 name, $3 cron, $4 zone, $5 target kind, $6 target, $7 version, $8 payload, $9 timeout in
-- milliseconds, $10 missed-tick bound, $11 first tick. A name taken inserts nothing, returns no row.
INSERT INTO {{schema}}.pgqrs_schedules (name, cron, zone, target_kind, target, version, payload, timeout_ms,
                                        missed_max, next_fire_at, created_at, updated_at)
VALUES ($2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, {{_now}}, {{_now}})
ON CONFLICT (name) DO NOTHING
RETURNING {{_schedule_columns}}

-- name: declare_schedule
-- create_schedule's parameters; an existing schedule takes the new definition, keeps its paused
-- flag and, unless its cron or zone changed, its next tick (every engine declaring the same
-- schedule computes the same first tick, and a tick already pending is not moved).
INSERT INTO {{schema}}.pgqrs_schedules AS s (name, cron, zone, target_kind, target, version, payload, timeout_ms,
                                             missed_max, next_fire_at, created_at, updated_at)
VALUES ($2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, {{_now}}, {{_now}})
ON CONFLICT (name) DO UPDATE
SET cron = excluded.cron, zone = excluded.zone, target_kind = excluded.target_kind, target = excluded.target,
    version = excluded.version, payload = excluded.payload, timeout_ms = excluded.timeout_ms,
    missed_max = excluded.missed_max,
    next_fire_at = CASE WHEN s.cron <> excluded.cron OR s.zone <> excluded.zone THEN excluded.next_fire_at
                        ELSE s.next_fire_at END,
    updated_at = CASE WHEN (s.cron, s.zone, s.target_kind, s.target, s.version, s.payload, s.timeout_ms, s.missed_max)
                           IS DISTINCT FROM (excluded.cron, excluded.zone, excluded.target_kind, excluded.target,
                                             excluded.version, excluded.payload, excluded.timeout_ms,
                                             excluded.missed_max)
                      THEN excluded.updated_at ELSE s.updated_at END
RETURNING {{_schedule_columns}}

-- name: find_schedule
SELECT {{_schedule_columns}} FROM {{schema}}.pgqrs_schedules WHERE name = $1

-- name: list_schedules
SELECT {{_schedule_columns}} FROM {{schema}}.pgqrs_schedules ORDER BY name

-- name: pause_schedule
-- $2 name, $3 paused, $4 the next tick a resume takes (a schedule that was not paused keeps its own).
UPDATE {{schema}}.pgqrs_schedules s
SET paused = $3,
    next_fire_at = CASE WHEN s.paused AND NOT $3 THEN coalesce($4, s.next_fire_at) ELSE s.next_fire_at END,
    updated_at = CASE WHEN s.paused <> $3 THEN {{_now}} ELSE s.updated_at END
WHERE s.name = $2
RETURNING {{_schedule_columns}}

-- name: delete_schedule
DELETE FROM {{schema}}.pgqrs_schedules WHERE name = $1

-- name: due_schedules
-- The schedules due at the clock, earliest first, at most $2, with the clock and the earliest next
-- tick still ahead of it (what the scheduler sleeps until); one row of nulls but those when none is due.
WITH n AS (SELECT {{_now}} AS now),
due AS (
    SELECT {{_schedule_columns}} FROM {{schema}}.pgqrs_schedules
    WHERE NOT paused AND next_fire_at <= (SELECT now FROM n)
    ORDER BY next_fire_at, name
    LIMIT $2)
SELECT n.now,
       (SELECT min(next_fire_at) FROM {{schema}}.pgqrs_schedules WHERE NOT paused AND next_fire_at > n.now) AS ahead,
       due.*
FROM n LEFT JOIN due ON true
ORDER BY due.next_fire_at, due.name

-- name: advance_schedule
-- The compare-and-set that fires ticks: moves next_fire_at from the tick the engine read ($2) to
-- the one after the ticks it fires ($3), recording the newest fired ($4, null when none fires).
-- Another engine that fired the same tick first moved next_fire_at, so this matches no row; the
-- row lock holds any racer until this transaction ends, and its re-check then fails too.
UPDATE {{schema}}.pgqrs_schedules
SET next_fire_at = $3, last_fired_at = coalesce($4, last_fired_at)
WHERE name = $1 AND next_fire_at = $2 AND NOT paused
RETURNING target_kind, target, version, payload::text AS payload, timeout_ms
