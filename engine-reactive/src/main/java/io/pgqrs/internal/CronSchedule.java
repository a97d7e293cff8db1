package io.pgqrs.internal;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.pgqrs.InvalidArgumentException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A parsed cron expression in a time zone, by cron-utils: five fields read with its Unix
 * definition (minute, hour, day of month, month, day of week), six fields with its Spring 5.3
 * definition (seconds first, then the five; {@code ?}, {@code L}, {@code W} and {@code #}
 * allowed). Ticks are whole seconds. Not part of the public API.
 */
public final class CronSchedule {

  private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser WITH_SECONDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]{0,127}");

  /** The prefix of a fired tick's idempotency key (runs) or dedup key (messages). */
  public static final String KEY_PREFIX = "schedule:";

  private final String expression;
  private final ZoneId zone;
  private final ExecutionTime times;

  private CronSchedule(String expression, ZoneId zone, ExecutionTime times) {
    this.expression = expression;
    this.zone = zone;
    this.times = times;
  }

  /**
   * Parses an expression and checks that it fires at all.
   *
   * @param expression 5 fields, or 6 with seconds first
   * @param zone the zone the fields are read in
   * @return the schedule
   * @throws InvalidArgumentException naming {@code cron} if malformed or never firing
   */
  public static CronSchedule parse(String expression, ZoneId zone) {
    if (expression == null || expression.isBlank()) {
      throw new InvalidArgumentException("cron", "a cron expression is required");
    }
    String trimmed = expression.trim();
    int fields = trimmed.split("\\s+").length;
    if (fields != 5 && fields != 6) {
      throw new InvalidArgumentException("cron", "invalid cron expression '" + expression + "': expected 5 fields "
          + "(minute hour day-of-month month day-of-week) or 6 with seconds first, got " + fields);
    }
    Cron cron;
    try {
      cron = (fields == 5 ? UNIX : WITH_SECONDS).parse(trimmed);
      cron.validate();
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException("cron", "invalid cron expression '" + expression + "': " + e.getMessage());
    }
    CronSchedule schedule = new CronSchedule(trimmed, java.util.Objects.requireNonNull(zone, "zone"),
        ExecutionTime.forCron(cron));
    if (schedule.nextAfter(Instant.EPOCH) == null) {
      throw new InvalidArgumentException("cron", "cron expression '" + expression + "' never fires");
    }
    return schedule;
  }

  /**
   * Reads a time zone id.
   *
   * @param zone a region id ({@code Europe/Paris}) or an offset ({@code UTC}, {@code +02:00})
   * @return the zone
   * @throws InvalidArgumentException naming {@code zone} if unknown or malformed
   */
  public static ZoneId zone(String zone) {
    try {
      return ZoneId.of(zone);
    } catch (DateTimeException | NullPointerException e) {
      throw new InvalidArgumentException("zone", "invalid time zone '" + zone + "': " + e.getMessage());
    }
  }

  /**
   * Checks a schedule name: a letter or underscore, then letters, digits, {@code _ . -}, at most 128.
   *
   * @param name the name
   * @return the name
   * @throws InvalidArgumentException naming {@code name} if invalid
   */
  public static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidArgumentException("name", "invalid schedule name " + Names.quoteForMessage(name)
          + ": use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or '_'");
    }
    return name;
  }

  /**
   * The key a tick's run or message carries: {@code schedule:<name>:<epoch seconds>}.
   *
   * @param schedule the schedule's name
   * @param tick the tick
   * @return the key
   */
  public static String key(String schedule, Instant tick) {
    return KEY_PREFIX + schedule + ":" + tick.getEpochSecond();
  }

  /** The expression as parsed. */
  String expression() {
    return expression;
  }

  /** The zone. */
  ZoneId zone() {
    return zone;
  }

  /**
   * The first tick strictly after an instant.
   *
   * @param after the instant
   * @return the tick, or null if there is none
   */
  @Nullable Instant nextAfter(Instant after) {
    // Ticks are whole seconds, and cron-utils reads its argument to the second: the first tick
    // after the second an instant falls in is the first tick after the instant.
    Optional<ZonedDateTime> next = times.nextExecution(after.truncatedTo(ChronoUnit.SECONDS).atZone(zone));
    return next.map(ZonedDateTime::toInstant).orElse(null);
  }

  /**
   * The newest ticks in {@code [from, now]}, at most {@code max}, oldest first.
   *
   * @param from the oldest tick that may fire (the schedule's next fire time)
   * @param now the store's clock
   * @param max the most ticks wanted
   * @return the ticks, oldest first; empty if none lies in the range
   */
  List<Instant> newestDue(Instant from, Instant now, int max) {
    Deque<Instant> ticks = new ArrayDeque<>();
    // lastExecution is strictly before its argument, read to the second; ticks are whole seconds:
    // the second after the one now falls in includes a tick at (or just before) now.
    Instant cursor = now.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
    while (ticks.size() < max) {
      Optional<ZonedDateTime> last = times.lastExecution(cursor.atZone(zone));
      if (last.isEmpty() || last.get().toInstant().isBefore(from)) {
        break;
      }
      Instant tick = last.get().toInstant();
      ticks.addFirst(tick);
      cursor = tick;
    }
    return List.copyOf(ticks);
  }
}
