package io.pgqrs.schedule;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.internal.CronSchedule;
import io.pgqrs.internal.Names;
import io.pgqrs.workflow.WorkflowDefinition;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable description of a schedule to create with {@link Schedules#create}: a name, a cron
 * expression, a time zone (UTC unless set), a target (a workflow run with an input, or a message
 * with a payload) and a missed-tick policy ({@link MissedTicks#skip()} unless set). Every
 * {@code withX} returns a new description, so one can serve as a template. Arguments are checked
 * when the description is made, with an {@link InvalidArgumentException} naming the bad one.
 *
 * <p>Cron expressions: five fields (minute, hour, day of month, month, day of week, as Unix cron
 * reads them) or six with seconds first (as Spring 5.3 reads them: {@code ?}, {@code L}, {@code W}
 * and {@code #} allowed). They are parsed by cron-utils and read in the schedule's zone, so
 * {@code 0 9 * * MON-FRI} in {@code Europe/Paris} fires at 9 o'clock Paris time across daylight
 * saving changes.
 */
public final class NewSchedule {

  /** Which kind of target a description has; the input or payload is serialised at create. */
  enum Kind { WORKFLOW, QUEUE }

  private final String name;
  private final String cron;
  private final ZoneId zone;
  private final Kind kind;
  private final String target;
  private final @Nullable String version;
  private final @Nullable Duration timeout;
  private final Object input;
  private final MissedTicks missedTicks;

  private NewSchedule(String name, String cron, ZoneId zone, Kind kind, String target, @Nullable String version,
      @Nullable Duration timeout, Object input, MissedTicks missedTicks) {
    this.name = name;
    this.cron = cron;
    this.zone = zone;
    this.kind = kind;
    this.target = target;
    this.version = version;
    this.timeout = timeout;
    this.input = input;
    this.missedTicks = missedTicks;
    CronSchedule.parse(cron, zone);
  }

  /**
   * A schedule triggering runs of an unversioned workflow, without run timeout.
   *
   * @param name the schedule's name: 1 to 128 letters, digits, {@code _ . -}, starting with a
   *     letter or {@code _}
   * @param cron the cron expression
   * @param workflow the workflow's name; it must be registered when a tick fires
   * @param input the input of every run, serialised with the store's mapper at create
   * @return the description
   * @throws InvalidArgumentException naming {@code name}, {@code cron}, {@code queue} or
   *     {@code input} if invalid
   */
  public static NewSchedule workflow(String name, String cron, String workflow, Object input) {
    return new NewSchedule(CronSchedule.checkName(name), cron, ZoneOffset.UTC, Kind.WORKFLOW,
        Names.checkQueue(workflow), null, null, required(input, "input"), MissedTicks.skip());
  }

  /**
   * A schedule triggering runs of a definition: its version and run timeout are those of the
   * definition.
   *
   * @param name the schedule's name
   * @param cron the cron expression
   * @param definition the definition; it must be registered when a tick fires
   * @param input the input of every run
   * @param <I> the input type
   * @return the description
   * @throws InvalidArgumentException naming {@code name}, {@code cron} or {@code input} if invalid
   */
  public static <I> NewSchedule workflow(String name, String cron, WorkflowDefinition<I, ?> definition, I input) {
    Objects.requireNonNull(definition, "definition");
    if (input == null || !definition.inputType().isInstance(input)) {
      throw new InvalidArgumentException("input", "the input of workflow '" + definition.name() + "' must be a "
          + definition.inputType().getName() + ", got " + (input == null ? "null" : input.getClass().getName()));
    }
    return new NewSchedule(CronSchedule.checkName(name), cron, ZoneOffset.UTC, Kind.WORKFLOW, definition.name(),
        definition.version(), definition.timeout(), input, MissedTicks.skip());
  }

  /**
   * A schedule enqueueing a message on a queue.
   *
   * @param name the schedule's name
   * @param cron the cron expression
   * @param queue the queue; it must exist when a tick fires
   * @param payload the payload of every message, serialised with the store's mapper at create
   * @return the description
   * @throws InvalidArgumentException naming {@code name}, {@code cron}, {@code queue} or
   *     {@code payload} if invalid
   */
  public static NewSchedule queue(String name, String cron, String queue, Object payload) {
    return new NewSchedule(CronSchedule.checkName(name), cron, ZoneOffset.UTC, Kind.QUEUE, Names.checkQueue(queue),
        null, null, required(payload, "payload"), MissedTicks.skip());
  }

  private static Object required(@Nullable Object value, String argument) {
    if (value == null) {
      throw new InvalidArgumentException(argument, "the " + argument + " of a schedule is required");
    }
    return value;
  }

  /**
   * The zone the cron expression is read in.
   *
   * @param value the zone
   * @return a new description
   */
  public NewSchedule withZone(ZoneId value) {
    return new NewSchedule(name, cron, Objects.requireNonNull(value, "zone"), kind, target, version, timeout, input,
        missedTicks);
  }

  /**
   * The zone the cron expression is read in, by id.
   *
   * @param value a region id ({@code Europe/Paris}) or an offset ({@code UTC}, {@code +02:00})
   * @return a new description
   * @throws InvalidArgumentException naming {@code zone} if unknown or malformed
   */
  public NewSchedule withZone(String value) {
    return withZone(CronSchedule.zone(value));
  }

  /**
   * What to do when several ticks are due at once.
   *
   * @param value the policy
   * @return a new description
   */
  public NewSchedule withMissedTicks(MissedTicks value) {
    return new NewSchedule(name, cron, zone, kind, target, version, timeout, input,
        Objects.requireNonNull(value, "missedTicks"));
  }

  /**
   * The schedule's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The cron expression.
   *
   * @return the expression
   */
  public String cron() {
    return cron;
  }

  /**
   * The zone.
   *
   * @return the zone
   */
  public ZoneId zone() {
    return zone;
  }

  /**
   * Whether the ticks trigger workflow runs (else they enqueue messages).
   *
   * @return true for a workflow target
   */
  public boolean triggersWorkflow() {
    return kind == Kind.WORKFLOW;
  }

  /**
   * The workflow's or the queue's name.
   *
   * @return the target's name
   */
  public String target() {
    return target;
  }

  /**
   * The workflow version the runs are triggered on; null for a queue target or an unversioned
   * workflow.
   *
   * @return the version, or null
   */
  public @Nullable String version() {
    return version;
  }

  /**
   * The run timeout of each run; null for none or a queue target.
   *
   * @return the timeout, or null
   */
  public @Nullable Duration timeout() {
    return timeout;
  }

  /**
   * The run input or message payload, not yet serialised.
   *
   * @return the value
   */
  public Object input() {
    return input;
  }

  /**
   * The missed-tick policy.
   *
   * @return the policy
   */
  public MissedTicks missedTicks() {
    return missedTicks;
  }

  @Override
  public String toString() {
    return "NewSchedule{name=" + name + ", cron='" + cron + "', zone=" + zone + ", " + kind.name().toLowerCase(
        java.util.Locale.ROOT) + "=" + target + (version == null ? "" : "@" + version) + ", missedTicks="
        + missedTicks + '}';
  }
}
