package io.pgqrs.exampleapp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The answer of {@code GET /orders/{id}}: the checkout run, where it stands and its recorded steps.
 *
 * @param id the order's id, which is its run's id
 * @param status the run's status ({@code QUEUED}, {@code RUNNING}, {@code SUCCESS}, ...)
 * @param stage where the checkout stands: {@code charging}, {@code awaiting_approval},
 *     {@code shipping}, {@code completed}, {@code failed}, {@code cancelled} or {@code paused}
 * @param order the order, as stored with the run
 * @param receipt the receipt of a completed order, else null
 * @param error why a failed order failed, else null
 * @param createdAt when the order was placed
 * @param finishedAt when its run finished, else null
 * @param steps the recorded steps, in the order they were begun
 */
public record OrderView(
    long id,
    RunStatus status,
    String stage,
    @Nullable Object order,
    @Nullable Object receipt,
    @Nullable String error,
    Instant createdAt,
    @Nullable Instant finishedAt,
    List<StepView> steps) {

  // The engine's records hold Jackson 2 trees; the web layer writes plain maps and lists.
  private static final ObjectMapper TREES = new ObjectMapper();

  /**
   * One recorded step.
   *
   * @param name the step's identity in the run ({@code charge}, {@code pgqrs.signal.approval} for
   *     the approval wait, {@code ship}, {@code confirm})
   * @param status {@code SUCCESS}, {@code WAITING}, {@code RETRY} or {@code ERROR}
   * @param attempts how many times it was executed
   * @param output the recorded output, else null
   * @param error the last error, else null
   */
  public record StepView(String name, StepStatus status, int attempts, @Nullable Object output, @Nullable String error) {}

  /**
   * The view of a run and its steps.
   *
   * @param run the run
   * @param steps its steps
   * @return the view
   */
  public static OrderView of(RunInfo run, List<StepInfo> steps) {
    return new OrderView(run.id(), run.status(), stage(run, steps), plain(run.input()), plain(run.output()),
        run.error(), run.createdAt(), run.finishedAt(),
        steps.stream().map(s -> new StepView(s.stepId(), s.status(), s.attempts(), plain(s.output()), s.error())).toList());
  }

  /**
   * The approval wait among a run's steps, once the run has reached it.
   *
   * @param steps the run's steps
   * @return the step, or empty before the charge is recorded
   */
  public static Optional<StepInfo> approvalStep(List<StepInfo> steps) {
    return steps.stream().filter(s -> CheckoutWorkflow.APPROVAL_POSITION.equals(s.position())).findFirst();
  }

  private static String stage(RunInfo run, List<StepInfo> steps) {
    switch (run.status()) {
      case SUCCESS:
        return "completed";
      case ERROR:
        return "failed";
      case CANCELLING:
      case CANCELLED:
        return "cancelled";
      case PAUSED:
        return "paused";
      default:
        Optional<StepInfo> approval = approvalStep(steps);
        if (approval.isEmpty()) {
          return "charging";
        }
        return switch (approval.get().status()) {
          case SUCCESS -> "shipping";
          case ERROR -> "failed";   // the approval timed out; the run is ending in ERROR
          default -> "awaiting_approval";
        };
    }
  }

  private static @Nullable Object plain(@Nullable JsonNode node) {
    return node == null || node.isNull() ? null : TREES.convertValue(node, Object.class);
  }
}
