package io.pgqrs.workflow;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A filter and page of workflow runs, newest first. Build with {@link #all()} and the
 * {@code withX} methods; every instance is immutable, so a query can be kept as a template.
 *
 * @param workflow only runs of this workflow, or null for all
 * @param status only runs in this status, or null for all
 * @param createdFrom only runs triggered at or after this instant, or null
 * @param createdTo only runs triggered before this instant, or null
 * @param beforeId only runs with a smaller id (the last id of the previous page), or null
 * @param limit the page size, 1 to 10,000
 */
public record RunQuery(
    @Nullable String workflow,
    @Nullable RunStatus status,
    @Nullable Instant createdFrom,
    @Nullable Instant createdTo,
    @Nullable Long beforeId,
    int limit) {

  /**
   * The first 100 runs of every workflow, newest first.
   *
   * @return the query
   */
  public static RunQuery all() {
    return new RunQuery(null, null, null, null, null, 100);
  }

  /**
   * Only runs of one workflow.
   *
   * @param name the workflow
   * @return a new query
   */
  public RunQuery withWorkflow(@Nullable String name) {
    return new RunQuery(name, status, createdFrom, createdTo, beforeId, limit);
  }

  /**
   * Only runs in one status.
   *
   * @param value the status
   * @return a new query
   */
  public RunQuery withStatus(@Nullable RunStatus value) {
    return new RunQuery(workflow, value, createdFrom, createdTo, beforeId, limit);
  }

  /**
   * Only runs triggered in {@code [from, to)}.
   *
   * @param from the start, or null
   * @param to the end, or null
   * @return a new query
   */
  public RunQuery withCreatedBetween(@Nullable Instant from, @Nullable Instant to) {
    return new RunQuery(workflow, status, from, to, beforeId, limit);
  }

  /**
   * The page after the one that ended with {@code id}.
   *
   * @param id the last id seen, or null for the first page
   * @return a new query
   */
  public RunQuery withBeforeId(@Nullable Long id) {
    return new RunQuery(workflow, status, createdFrom, createdTo, id, limit);
  }

  /**
   * The page size.
   *
   * @param value 1 to 10,000
   * @return a new query
   */
  public RunQuery withLimit(int value) {
    return new RunQuery(workflow, status, createdFrom, createdTo, beforeId, value);
  }
}
