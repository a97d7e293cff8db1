package io.pgqrs.spring;

import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowMethod;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The workflows of the application's {@link WorkflowMethod} beans, registered in the store when
 * the application started; inject it to trigger runs. Thread-safe.
 *
 * <pre>{@code
 * Workflow<Order, Receipt> checkout = workflows.get("checkout");
 * checkout.trigger(order, "order-" + order.id()).flatMap(RunHandle::result);
 * }</pre>
 */
public final class PgqrsWorkflows {

  private final Map<String, Workflow<?, ?>> byName = new ConcurrentHashMap<>();

  /** Creates an empty registry; the starter fills it at start and empties it at stop. */
  PgqrsWorkflows() {}

  /**
   * The registered workflow of a name. Not I/O: it looks up what start-up registered.
   *
   * @param name the workflow's name (its {@code @WorkflowMethod} value, or the method's name)
   * @param <I> the input type
   * @param <O> the output type
   * @return the workflow, whose workers run in this application
   * @throws IllegalStateException if no {@code @WorkflowMethod} bean has that name, or the
   *     application is not running
   */
  @SuppressWarnings("unchecked")
  public <I, O> Workflow<I, O> get(String name) {
    Workflow<?, ?> workflow = byName.get(name);
    if (workflow == null) {
      throw new IllegalStateException("no workflow '" + name + "' is running in this application (running: "
          + names() + ")");
    }
    return (Workflow<I, O>) workflow;
  }

  /**
   * The names of the workflows registered and running.
   *
   * @return the names
   */
  public Set<String> names() {
    return Set.copyOf(byName.keySet());
  }

  void add(Workflow<?, ?> workflow) {
    byName.put(workflow.definition().name(), workflow);
  }

  void clear() {
    byName.clear();
  }
}
