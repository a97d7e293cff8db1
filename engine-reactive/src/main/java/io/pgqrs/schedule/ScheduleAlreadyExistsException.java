package io.pgqrs.schedule;

import io.pgqrs.PgqrsPermanentException;

/** A schedule with this name exists already. */
public class ScheduleAlreadyExistsException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String schedule;

  /**
   * Creates the exception.
   *
   * @param schedule the schedule that exists already
   */
  public ScheduleAlreadyExistsException(String schedule) {
    super("schedule '" + schedule + "' exists already", null);
    this.schedule = schedule;
  }

  /**
   * The schedule that exists already.
   *
   * @return the name
   */
  public String schedule() {
    return schedule;
  }
}
