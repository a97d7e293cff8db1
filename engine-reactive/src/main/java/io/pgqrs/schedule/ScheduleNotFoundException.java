package io.pgqrs.schedule;

import io.pgqrs.PgqrsPermanentException;

/** The named schedule does not exist. */
public class ScheduleNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String schedule;

  /**
   * Creates the exception.
   *
   * @param schedule the schedule that was asked for
   */
  public ScheduleNotFoundException(String schedule) {
    super("schedule '" + schedule + "' does not exist", null);
    this.schedule = schedule;
  }

  /**
   * The schedule that was asked for.
   *
   * @return the name
   */
  public String schedule() {
    return schedule;
  }
}
