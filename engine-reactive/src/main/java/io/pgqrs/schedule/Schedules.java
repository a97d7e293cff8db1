package io.pgqrs.schedule;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreUnavailableException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Cron schedules of a store, shared by every store on the schema. Each schedule fires on the ticks
 * of its cron expression, in its zone, by the <em>store's</em> clock (never the JVM's): the
 * {@code scheduler} maintenance service of every connected store (see
 * {@link io.pgqrs.admin.Maintenance#scheduler()}) fires the due ticks, exactly one run or message
 * per tick however many stores run it, since a tick is fired in the transaction that moves the
 * schedule's next fire time on from that very tick (a compare-and-set), and its run carries the
 * tick in its idempotency key (a message in its dedup key) as a second guard.
 *
 * <p>Every method is cold: nothing is sent until subscription, and each subscription runs the
 * operation again. Errors: {@link StoreUnavailableException} when the store is closed or
 * unreachable, {@link SchemaNotInstalledException} before install. Cancelling a write before it
 * completes leaves it done entirely or not at all.
 */
public interface Schedules {

  /**
   * Creates a schedule; its first tick is the first after the store's clock. The input or payload
   * is serialised with the store's mapper.
   *
   * @param schedule the description
   * @return the schedule; {@link ScheduleAlreadyExistsException} if the name is taken,
   *     {@link InvalidArgumentException} naming {@code input} or {@code payload} if it cannot be
   *     serialised
   */
  Mono<ScheduleInfo> create(NewSchedule schedule);

  /**
   * Lists every schedule by name.
   *
   * @return the schedules
   */
  Flux<ScheduleInfo> list();

  /**
   * Reads a schedule.
   *
   * @param name the name
   * @return the schedule; {@link ScheduleNotFoundException} if none
   */
  Mono<ScheduleInfo> get(String name);

  /**
   * Pauses a schedule: it fires nothing until resumed. Idempotent.
   *
   * @param name the name
   * @return the schedule after the change; {@link ScheduleNotFoundException} if none
   */
  Mono<ScheduleInfo> pause(String name);

  /**
   * Resumes a paused schedule from its first tick after the store's clock: the ticks it missed
   * while paused never fire. Resuming a schedule that is not paused changes nothing.
   *
   * @param name the name
   * @return the schedule after the change; {@link ScheduleNotFoundException} if none
   */
  Mono<ScheduleInfo> resume(String name);

  /**
   * Deletes a schedule; runs and messages it fired are left alone.
   *
   * @param name the name
   * @return completes when deleted; {@link ScheduleNotFoundException} if none
   */
  Mono<Void> delete(String name);
}
