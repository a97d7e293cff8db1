package io.pgqrs.bench;

import reactor.core.publisher.Mono;

/**
 * The pgqrs side of the {@code workflow} scenario. The durable-workflow API is not part of this
 * build yet, so this subject reports itself unavailable and the scenario emits its cells with
 * {@code "status":"unavailable"} instead of numbers.
 *
 * <p>Once the API exists, this class is where it plugs in: {@link #setup(WorkflowTarget, int)}
 * connects a store on {@code target.pgqrsDsn()}, installs it and registers the three-step
 * workflow of {@link WorkflowSubject} (steps {@code step-1}..{@code step-3}, each appending
 * {@code ":n"}) with {@code workers} concurrent runs; {@link #run(String)} triggers a run and
 * returns its handle's {@code result()}; {@link #close()} closes the store. {@link #available()}
 * then returns true.
 */
public final class PgqrsWorkflowSubject implements WorkflowSubject {

  /** Creates the subject; nothing is connected until {@link #setup(WorkflowTarget, int)}. */
  public PgqrsWorkflowSubject() {}

  @Override
  public String name() {
    return "pgqrs";
  }

  @Override
  public boolean available() {
    return false;
  }

  @Override
  public String unavailableReason() {
    return "the pgqrs durable-workflow API is not in this build yet";
  }

  @Override
  public void setup(WorkflowTarget target, int workers) {
    throw new UnsupportedOperationException(unavailableReason());
  }

  @Override
  public String configuration() {
    return "not available: " + unavailableReason();
  }

  @Override
  public Mono<String> run(String input) {
    return Mono.error(new UnsupportedOperationException(unavailableReason()));
  }

  @Override
  public void close() {
    // Nothing was opened.
  }
}
