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
 * @param parent only the children of this run, or null for all
 */
public record RunQuery(
    @Nullable String workflow,
    @Nullable RunStatus status,
    @Nullable Instant createdFrom,
    @Nullable Instant createdTo,
    @Nullable Long beforeId,
    int limit,
    @Nullable Long parent) {

  /**
   * A query without a parent filter.
   *
   * @param workflow the workflow, or null for all
   * @param status the status, or null for all
   * @param createdFrom the earliest creation time, or null
   * @param createdTo the creation time before which runs were created, or null
   * @param beforeId only runs with smaller ids, or null
   * @param limit the page size
   */
  public RunQuery(@Nullable String workflow, @Nullable RunStatus status, @Nullable Instant createdFrom,
      @Nullable Instant createdTo, @Nullable Long beforeId, int limit) {
    this(workflow, status, createdFrom, createdTo, beforeId, limit, null);
  }

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
    return new RunQuery(name, status, createdFrom, createdTo, beforeId, limit, parent);
  }

  /**
   * Only runs in one status.
   *
   * @param value the status
   * @return a new query
   */
  public RunQuery withStatus(@Nullable RunStatus value) {
    return new RunQuery(workflow, value, createdFrom, createdTo, beforeId, limit, parent);
  }

  /**
   * Only runs triggered in {@code [from, to)}.
   *
   * @param from the start, or null
   * @param to the end, or null
   * @return a new query
   */
  public RunQuery withCreatedBetween(@Nullable Instant from, @Nullable Instant to) {
    return new RunQuery(workflow, status, from, to, beforeId, limit, parent);
  }

  /**
   * The page after the one that ended with {@code id}.
   *
   * @param id the last id seen, or null for the first page
   * @return a new query
   */
  public RunQuery withBeforeId(@Nullable Long id) {
    return new RunQuery(workflow, status, createdFrom, createdTo, id, limit, parent);
  }

  /**
   * The page size.
   *
   * @param value 1 to 10,000
   * @return a new query
   */
  public RunQuery withLimit(int value) {
    return new RunQuery(workflow, status, createdFrom, createdTo, beforeId, value, parent);
  }

  /**
   * Only the children of one run (the runs it started with {@link RunContext#child}).
   *
   * @param runId the parent run
   * @return a new query
   */
  public RunQuery parent(long runId) {
    return new RunQuery(workflow, status, createdFrom, createdTo, beforeId, limit, runId);
  }
}
