/**
 * Cron schedules: {@link io.pgqrs.schedule.Schedules} (from {@link io.pgqrs.Store#schedules()})
 * creates, lists, pauses, resumes and deletes named schedules, each of which triggers a workflow
 * run or enqueues a message on every tick of a cron expression in a time zone. The maintenance
 * service {@code scheduler} of every connected store fires due ticks by the store's clock, one run
 * or message per tick however many stores share the schema; {@link io.pgqrs.schedule.ScheduleTick}
 * reads a fired tick's scheduled and actual times back from the run or message it created.
 */
@NullMarked
package io.pgqrs.schedule;

import org.jspecify.annotations.NullMarked;
