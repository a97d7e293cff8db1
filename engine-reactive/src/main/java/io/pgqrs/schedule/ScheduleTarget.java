package io.pgqrs.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a schedule does on each tick: trigger a workflow run or enqueue a message.
 */
public sealed interface ScheduleTarget permits ScheduleTarget.Workflow, ScheduleTarget.Queue {

  /**
   * Each tick triggers a run of a registered workflow with the same input. The run's idempotency
   * key is {@code schedule:<name>:<tick in epoch seconds>} (see {@link ScheduleTick}).
   *
   * @param workflow the workflow's name
   * @param version the definition version the runs are triggered on, or null for an unversioned
   *     definition
   * @param input the input of every run, as JSON
   * @param timeout the run timeout each run gets, or null for none
   */
  record Workflow(String workflow, @Nullable String version, JsonNode input, @Nullable Duration timeout)
      implements ScheduleTarget {

    /**
     * The queue that carries the runs: the workflow's own, or {@code name@version}.
     *
     * @return the queue name
     */
    public String queue() {
      return version == null ? workflow : workflow + "@" + version;
    }
  }

  /**
   * Each tick enqueues one message with the same payload. The message's dedup key is
   * {@code schedule:<name>:<tick in epoch seconds>} (see {@link ScheduleTick}).
   *
   * @param queue the queue
   * @param payload the payload of every message
   */
  record Queue(String queue, JsonNode payload) implements ScheduleTarget {}
}
