package io.pgqrs.workflow;

import com.fasterxml.jackson.core.type.TypeReference;
import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import java.time.Duration;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * What a workflow body sees of its run: memoized steps, durable sleep and signals. Every method
 * returns a cold {@code Mono} that does its work when subscribed, so steps compose with
 * {@code flatMap}, {@code zip} and the rest of Reactor.
 *
 * <p><b>Step identity.</b> A step is identified by its <em>position</em>: the order in which steps
 * are first subscribed ({@code 1}, {@code 2}, ...), never the order in which they complete; a
 * {@code Mono} subscribed again is the same step. Its readable id ({@link StepInfo#stepId()}) is its
 * name, {@code name#2}, {@code name#3}, ... for later steps of the same name; using one name at two
 * different places of the code fails with {@link StepConflictException}. Steps subscribed together
 * ({@code Flux.merge(ctx.step("a", ..), ctx.step("b", ..))}, {@code zip}) follow program order.
 * Steps subscribed in a continuation ({@code flatMap} after a step, {@code zip(..).flatMap},
 * {@code flatMap} with a concurrency limit over a step's values) follow the order in which steps
 * deliver their results, and the engine makes that order deterministic: every execution delivers
 * step results in the order they were first recorded, so concurrent branches get the same
 * positions on every replay whatever their timing. A branch that hops threads or waits on time
 * outside steps ({@code publishOn}, {@code Mono.delay}, a client call outside a step) before it
 * subscribes a step loses that guarantee: wrap such a branch in {@link #scope(String, Supplier)}
 * with a key derived from its data, whose steps are numbered within the scope wherever they run.
 * At the same position, a history written by different code fails the execution with
 * {@link NondeterminismException} and pauses the run.
 *
 * <p><b>Guarantees.</b> A recorded step is never executed again: replay returns the recorded
 * value without subscribing to its supplier. At most one worker executes a run at a time: it holds
 * the run's message lease, and every step record is fenced by that lease. A crash inside a step
 * executes only that step again: its external side effects are at-least-once, so make them
 * idempotent, or use {@link #transactionalStep} for database effects. A step's result reaches the
 * body just before its record is written (the last step's record goes with the run's finish, in
 * one statement), and any later step waits for that write before it starts; a crash in between
 * executes that step again too. Code between steps must therefore be deterministic and free of
 * effects of its own, as every replay runs it again anyway.
 *
 * <p><b>Interruptions.</b> When a step finds the run paused, cancelled, timed out, sleeping or
 * waiting, its {@code Mono} fails with an internal error that ends this execution of the body;
 * the worker then parks or finishes the run. Do not swallow errors you do not know
 * ({@code onErrorResume(e -> true, ...)}): the worker still parks the run, but the body's own
 * fallback may run needlessly.
 */
public interface RunContext {

  /**
   * The run's id.
   *
   * @return the id
   */
  long runId();

  /**
   * The workflow's name.
   *
   * @return the name
   */
  String workflow();

  /**
   * A step whose output is read back as {@code type}. Cold. The supplier is subscribed only if the
   * step has no record; its value is stored as JSON and the value emitted is the stored one read
   * back, so the first execution and every replay see the same value. An empty supplier records an
   * empty step.
   *
   * <p>Errors: a supplier error with attempts left (see {@link StepOptions}) ends this execution
   * and the step runs again after the delay; the last failure, a non-retryable error, or an output
   * that cannot be serialized is recorded and emitted as {@link StepFailedException}, now and on
   * every replay. Cancelling the subscription cancels the supplier and gives the step's lease up.
   *
   * @param name the step's name
   * @param type the output class
   * @param supplier the step's work
   * @param <T> the output type
   * @return the output
   */
  <T> Mono<T> step(String name, Class<T> type, Supplier<? extends Mono<? extends T>> supplier);

  /**
   * {@link #step(String, Class, Supplier)} for a generic output type.
   *
   * @param name the step's name
   * @param type the output type
   * @param supplier the step's work
   * @param <T> the output type
   * @return the output
   */
  <T> Mono<T> step(String name, TypeReference<T> type, Supplier<? extends Mono<? extends T>> supplier);

  /**
   * {@link #step(String, Class, Supplier)} with its own retry options.
   *
   * @param name the step's name
   * @param type the output class
   * @param options attempts and backoff for this step
   * @param supplier the step's work
   * @param <T> the output type
   * @return the output
   */
  <T> Mono<T> step(String name, Class<T> type, StepOptions options, Supplier<? extends Mono<? extends T>> supplier);

  /**
   * A step whose output type is the runtime class of its value, recorded with the value. Fine for
   * records, beans and scalars; for generic values ({@code List<Item>}) use the typed variants,
   * since a replay can only restore the outer class.
   *
   * @param name the step's name
   * @param supplier the step's work
   * @param <T> the output type
   * @return the output
   */
  <T> Mono<T> step(String name, Supplier<? extends Mono<T>> supplier);

  /**
   * A step that runs the caller's SQL and records its output in the same database transaction, so
   * its database effects happen exactly once: they commit exactly when the step's record does.
   * PostgreSQL only: {@code work} receives the transaction's R2DBC connection and must not commit,
   * roll back or close it. Retries and replay behave as for {@link #step(String, Class, Supplier)}.
   * On a backend without transactional steps the step fails for good with
   * {@link ConfigurationException}.
   *
   * @param name the step's name
   * @param type the output class
   * @param work the SQL work
   * @param <T> the output type
   * @return the output
   */
  <T> Mono<T> transactionalStep(String name, Class<T> type,
      java.util.function.Function<io.r2dbc.spi.Connection, ? extends Mono<? extends T>> work);

  /**
   * A durable sleep: the run's message becomes visible again after {@code duration}, so the run
   * sleeps without holding a worker and survives restarts. The wake time is recorded on the first
   * execution; replays wait only for what is left.
   *
   * @param duration how long, zero or more
   * @return completes when the sleep is over
   */
  Mono<Void> sleep(Duration duration);

  /**
   * Waits for a signal sent with {@link RunHandle#signal} (before or after the wait begins). The
   * value received is recorded like a step's output; signals are consumed oldest first, one per
   * wait. The run waits without holding a worker.
   *
   * @param name the signal's name
   * @param type the value's class
   * @param timeout how long to wait; the deadline is recorded on the first execution
   * @param <T> the value type
   * @return the value; fails with {@link SignalTimeoutException} (recorded) when the timeout passes
   */
  <T> Mono<T> awaitSignal(String name, Class<T> type, Duration timeout);

  /**
   * A proxy of {@code api} whose methods annotated {@link Step} run as steps of this run, named
   * by the annotation or the method; each such method must return {@code Mono}. Other methods call
   * the target directly.
   *
   * @param api the interface
   * @param target the implementation
   * @param <S> the interface type
   * @return the proxy
   * @throws InvalidArgumentException if {@code api} is not an interface or a {@code @Step} method
   *     does not return {@code Mono}
   */
  <S> S steps(Class<S> api, S target);

  /**
   * Runs a branch of the body in a named scope: every step subscribed within the branch's
   * pipeline (through the Reactor context, so also after {@code publishOn} or a delay) is numbered
   * within the scope ({@code key/1}, {@code key/2}, ...; readable ids {@code key/name}),
   * independent of anything else the run does. Use it for dynamic fan-out whose branches hop
   * threads or wait on time outside steps, with a key derived from the branch's data
   * ({@code Flux.fromIterable(orders).flatMap(o -> ctx.scope("order-" + o.id(), () -> ...))}).
   * Scopes nest. The supplier is called at once, on the calling thread; the returned {@code Mono}
   * subscribes the supplier's, so it is as cold as the steps in it.
   *
   * @param key the scope's key: 1 to 100 characters without {@code /} or {@code #}, unique among
   *     the branches of one fan-out
   * @param branch builds the branch
   * @param <T> the branch's value type
   * @return the branch; fails with {@link InvalidArgumentException} for a malformed key
   */
  <T> Mono<T> scope(String key, Supplier<? extends Mono<T>> branch);

  /**
   * Whether this run takes the code path of a change (the patching pattern): true for runs that
   * reach this call on code that has it, false for a run whose history was recorded before the
   * change was deployed and already went past this point. Recorded like a step (a marker named
   * {@code pgqrs.patch.changeId}), so each run answers the same way on every replay, and one body
   * can carry the old and the new path until the old runs have finished:
   * {@code ctx.patched("fraud-check").flatMap(yes -> yes ? ctx.step("fraud", ..) : Mono.empty())}.
   * Cold.
   *
   * @param changeId names the change: 1 to 150 characters without {@code #} or {@code /}
   * @return whether the run takes the new path; fails with {@link InvalidArgumentException} for a
   *     malformed id
   */
  Mono<Boolean> patched(String changeId);

  /**
   * Sets an event: a value of this run that readers outside it get from
   * {@link RunHandle#event(String, Class)} and {@link RunHandle#events(String, Class)} (progress, a
   * status, a partial result). Recorded like a step (named {@code pgqrs.event.key}), with the value
   * appended to the key's history in the same write, so a replayed {@code setEvent} writes nothing
   * and adds no second value; setting the key again later in the run appends the next value. Cold.
   * Cancelling the subscription may leave the value set or not, never half.
   *
   * @param key the event's key: 1 to 188 characters without {@code #}
   * @param value the value, serialized with the store's object mapper; not null
   * @return completes when recorded; fails with {@link InvalidArgumentException} for a malformed
   *     key or a null value, {@link io.pgqrs.SerializationFailedException} for a value that cannot
   *     be serialized or kept exactly
   */
  Mono<Void> setEvent(String key, Object value);

  /**
   * Starts a child run of {@code workflow} and waits for its output, as {@link
   * #child(Workflow, Object, ChildOptions)} with {@link ChildOptions#defaults()}.
   *
   * @param workflow the child's workflow
   * @param input the child's input
   * @param <I> the child's input type
   * @param <O> the child's output type
   * @return the child's output; fails like {@link #child(Workflow, Object, ChildOptions)}
   */
  <I, O> Mono<O> child(Workflow<I, O> workflow, I input);

  /**
   * Starts a child run of {@code workflow} and waits for its output. The child is started once:
   * its idempotency key is {@code child:<this run>:<the call's position>}, and its run id is
   * recorded as a step of this run ({@code pgqrs.child.<workflow>}), so a replay after a crash at any
   * point finds the same child. The wait is recorded too ({@code pgqrs.child-result}): this run
   * parks without holding a worker and is woken when the child finishes (by this engine's result
   * waiter, in process or by notification), or looks again every {@link ChildOptions#checkEvery()}.
   * Identities follow the calling scope like steps', so a fan-out ({@code flatMap}) starts the same
   * children on every replay. Cold; cancelling the subscription leaves the child running.
   *
   * @param workflow the child's workflow
   * @param input the child's input
   * @param options how the child relates to this run
   * @param <I> the child's input type
   * @param <O> the child's output type
   * @return the child's output (replayed from the record); fails with {@link
   *     ChildWorkflowFailedException} when the child ended in ERROR or CANCELLED, {@link
   *     StepFailedException} if the child could not be started
   */
  <I, O> Mono<O> child(Workflow<I, O> workflow, I input, ChildOptions options);

  /**
   * Starts a child run without waiting for it (fire and forget): created once, exactly as by {@link
   * #child(Workflow, Object, ChildOptions)}, whose first step this is. Cold.
   *
   * @param workflow the child's workflow
   * @param input the child's input
   * @param options how the child relates to this run
   * @param <I> the child's input type
   * @return the child's run id (replayed from the record); fails with {@link StepFailedException}
   *     if the child could not be started
   */
  <I> Mono<Long> startChild(Workflow<I, ?> workflow, I input, ChildOptions options);
}
