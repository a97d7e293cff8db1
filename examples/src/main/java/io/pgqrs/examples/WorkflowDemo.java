package io.pgqrs.examples;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A durable workflow as a program: three memoized steps, a durable sleep and a signal, executed by
 * a worker in the same process, with the run's steps printed at the end.
 *
 * <p>Usage: {@code WorkflowDemo [dsn]}; the default, {@code sqlite:pgqrs-demo.db}, needs no server.
 * Run it with {@code ./mvnw -q -pl examples -am compile -Pdemo
 * -Dexec.mainClass=io.pgqrs.examples.WorkflowDemo}.
 */
public final class WorkflowDemo {

  private WorkflowDemo() {}

  /** The input. */
  public record Order(String id, List<String> items) {}

  /** The output. */
  public record Receipt(String orderId, int reserved, String payment, String approvedBy) {}

  static WorkflowDefinition<Order, Receipt> checkout() {
    return Workflows.define("checkout", Order.class, Receipt.class, (ctx, order) ->
        ctx.step("reserve", Integer.class, () -> Mono.just(order.items().size()))
            .flatMap(reserved -> ctx.step("charge", String.class, () -> Mono.just("paid-" + order.id()))
                .flatMap(payment -> ctx.sleep(Duration.ofMillis(200))
                    .then(ctx.awaitSignal("approval", String.class, Duration.ofMinutes(1)))
                    .map(approver -> new Receipt(order.id(), reserved, payment, approver)))));
  }

  /**
   * Runs the demo.
   *
   * @param args optional DSN
   */
  public static void main(String[] args) {
    String dsn = args.length > 0 && !args[0].isBlank() ? args[0] : "sqlite:pgqrs-demo.db";
    Store store = Pgqrs.connect(dsn).block(Duration.ofSeconds(30));
    try {
      store.admin().install().block();
      Workflow<Order, Receipt> workflow = store.runs().register(checkout()).block();
      WorkflowWorker worker = workflow.worker().concurrency(4).start();

      RunHandle<Receipt> run = workflow.trigger(new Order("o-" + System.currentTimeMillis(), List.of("book", "pen")))
          .block();
      // The run reserves, charges, sleeps durably, then waits for this signal without holding a worker.
      run.signal("approval", "ada").block();
      Receipt receipt = run.result().block(Duration.ofSeconds(30));
      System.out.println("run " + run.runId() + " -> " + receipt);
      for (StepInfo step : run.steps().collectList().block()) {
        System.out.printf("  step %-22s %-8s attempts=%d output=%s%n", step.stepId(), step.status(), step.attempts(),
            step.output());
      }
      RunInfo info = run.info().block();
      System.out.println("  status " + info.status() + ", begun " + info.attempts() + " time(s) by a worker");
      worker.stop().block();
    } finally {
      store.close().block(Duration.ofSeconds(30));
      // Stop Reactor's threads before main returns: under `mvn exec:java` a timer thread still
      // running once the plugin has closed its class loader fails the build after the demo's output.
      Schedulers.shutdownNow();
    }
  }
}
