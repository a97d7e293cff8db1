package io.pgqrs.internal;

import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Outcome;
import io.pgqrs.workflow.RunStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/** The engine's observers as one: none, the only one, or each in turn. */
final class Telemetries {

  private Telemetries() {}

  static Telemetry of(List<Telemetry> observers) {
    return switch (observers.size()) {
      case 0 -> Telemetry.NONE;
      case 1 -> observers.get(0);
      default -> new All(observers.toArray(new Telemetry[0]));
    };
  }

  private record All(Telemetry[] each) implements Telemetry {

    @Override
    public void enqueued(String queue, int count) {
      for (Telemetry t : each) {
        t.enqueued(queue, count);
      }
    }

    @Override
    public void claimed(String queue) {
      for (Telemetry t : each) {
        t.claimed(queue);
      }
    }

    @Override
    public void settled(String queue, Settled how) {
      for (Telemetry t : each) {
        t.settled(queue, how);
      }
    }

    @Override
    public void leaseLost(String queue) {
      for (Telemetry t : each) {
        t.leaseLost(queue);
      }
    }

    @Override
    public void handlerStarted(String queue, Duration sinceEnqueued) {
      for (Telemetry t : each) {
        t.handlerStarted(queue, sinceEnqueued);
      }
    }

    @Override
    public void handled(String queue, Outcome.Kind outcome, Duration took) {
      for (Telemetry t : each) {
        t.handled(queue, outcome, took);
      }
    }

    @Override
    public void runStarted(String workflow) {
      for (Telemetry t : each) {
        t.runStarted(workflow);
      }
    }

    @Override
    public void runFinished(String workflow, RunStatus status, Duration sinceCreated) {
      for (Telemetry t : each) {
        t.runFinished(workflow, status, sinceCreated);
      }
    }

    @Override
    public void stepFinished(String workflow, String outcome, Duration took) {
      for (Telemetry t : each) {
        t.stepFinished(workflow, outcome, took);
      }
    }

    /** The first observer's wrap is outermost: each wraps the work of the ones after it. */
    @Override
    public <T> Mono<T> aroundEnqueue(String queue, List<NewMessage> messages,
        Function<List<NewMessage>, Mono<T>> enqueue) {
      return wrapEnqueue(0, queue, messages, enqueue);
    }

    private <T> Mono<T> wrapEnqueue(int from, String queue, List<NewMessage> messages,
        Function<List<NewMessage>, Mono<T>> enqueue) {
      if (from == each.length) {
        return enqueue.apply(messages);
      }
      return each[from].aroundEnqueue(queue, messages, m -> wrapEnqueue(from + 1, queue, m, enqueue));
    }

    @Override
    public Mono<Void> aroundHandle(String queue, Message message, Mono<Void> handler) {
      return nested(handler, (t, work) -> t.aroundHandle(queue, message, work));
    }

    @Override
    public <T> Mono<T> aroundRun(String workflow, long runId, int attempt, Message message, Mono<T> body) {
      return nested(body, (t, work) -> t.aroundRun(workflow, runId, attempt, message, work));
    }

    @Override
    public <T> Mono<T> aroundStep(String workflow, long runId, String stepId, int attempt, Mono<T> body) {
      return nested(body, (t, work) -> t.aroundStep(workflow, runId, stepId, attempt, work));
    }

    /** {@code innermost} wrapped by every observer, the first one's wrap outermost. */
    private <T> Mono<T> nested(Mono<T> innermost, java.util.function.BiFunction<Telemetry, Mono<T>, Mono<T>> wrap) {
      Mono<T> work = innermost;
      for (int i = each.length - 1; i >= 0; i--) {
        work = wrap.apply(each[i], work);
      }
      return work;
    }

    /** As {@link #aroundEnqueue}: the first observer's wrap is outermost; the headers of all are stored. */
    @Override
    public <T> Mono<T> aroundTrigger(String workflow, Function<Map<String, String>, Mono<T>> trigger) {
      return wrapTrigger(0, workflow, Map.of(), trigger);
    }

    private <T> Mono<T> wrapTrigger(int from, String workflow, Map<String, String> outer,
        Function<Map<String, String>, Mono<T>> trigger) {
      if (from == each.length) {
        return trigger.apply(outer);
      }
      return each[from].aroundTrigger(workflow, headers -> {
        Map<String, String> merged = new java.util.LinkedHashMap<>(headers);
        merged.putAll(outer);
        return wrapTrigger(from + 1, workflow, merged, trigger);
      });
    }
}
}
