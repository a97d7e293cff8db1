package io.pgqrs.conformance;

import io.pgqrs.internal.RunTransitions;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A test factory that puts rows of the store in any state at any time, through the SPI alone, so
 * it builds the same rows on every backend: live, delayed and leased messages, expired leases,
 * archived and dead messages, fresh and stale workers, and runs in each status. Time is never
 * waited for: every operation passes its {@code now} override, so a row "in the past" is made by
 * running the operations that produce it at earlier instants.
 *
 * <p>Methods that claim take the queue's first claimable message and fail with
 * {@link IllegalStateException} when that is not the message they just enqueued: call them on a
 * queue whose other messages are not claimable at the instants they use. Every call blocks for at
 * most {@link #TIMEOUT}; the factory is meant for test threads only.
 */
public final class Rows {

  /** Upper bound of every blocking call. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** The lease of messages claimed by the factory unless a test passes its own. */
  public static final Duration LEASE = Duration.ofSeconds(30);

  /** The max attempts of queues and workflows created without one. */
  public static final int MAX_ATTEMPTS = 5;

  private static final AtomicInteger NAMES = new AtomicInteger();

  private final StoreDriver driver;

  /**
   * Creates a factory writing through a driver.
   *
   * @param driver the installed driver under test
   */
  public Rows(StoreDriver driver) {
    this.driver = driver;
  }

  /**
   * A name no other call of this JVM returns, valid for queues, workflows and workers.
   *
   * @param kind a short prefix saying what the name is for
   * @return the name
   */
  public static String uniqueName(String kind) {
    return kind + "_c" + NAMES.incrementAndGet();
  }

  /**
   * A payload carrying a number.
   *
   * @param n the number
   * @return JSON object text
   */
  public static String payload(int n) {
    return "{\"n\": " + n + "}";
  }

  /**
   * A row to enqueue, visible at once, without dedup key, of priority 0.
   *
   * @param n the number in the payload
   * @return the row
   */
  public static StoreParams.NewRow row(int n) {
    return new StoreParams.NewRow(payload(n), null, null, null, 0);
  }

  // ---------------------------------------------------------------- queues and messages

  /**
   * Creates a queue with a unique name and {@link #MAX_ATTEMPTS}.
   *
   * @param at when it is created
   * @return its name
   */
  public String queue(Instant at) {
    return queue(MAX_ATTEMPTS, at);
  }

  /**
   * Creates a queue with a unique name.
   *
   * @param maxAttempts deliveries before dead-lettering
   * @param at when it is created
   * @return its name
   */
  public String queue(int maxAttempts, Instant at) {
    String name = uniqueName("q");
    driver.createQueue(new StoreParams.CreateQueue(name, maxAttempts, at)).block(TIMEOUT);
    return name;
  }

  /**
   * Enqueues one row.
   *
   * @param queue the queue
   * @param row the row
   * @param at the store's clock for the insert
   * @return the new message's id
   */
  public long enqueue(String queue, StoreParams.NewRow row, Instant at) {
    List<StoreResults.Enqueued> result =
        driver.enqueue(new StoreParams.Enqueue(queue, List.of(row), at)).block(TIMEOUT);
    if (result == null || result.size() != 1 || !result.get(0).inserted()) {
      throw new IllegalStateException("enqueue into " + queue + " inserted no row: " + result);
    }
    return result.get(0).id();
  }

  /**
   * A live message, claimable from {@code at} on.
   *
   * @param queue the queue
   * @param at when it is enqueued
   * @return the message as stored
   */
  public Message liveMessage(String queue, Instant at) {
    return liveMessage(queue, at, 0);
  }

  /**
   * A live message of a priority, claimable from {@code at} on.
   *
   * @param queue the queue
   * @param at when it is enqueued
   * @param priority its priority
   * @return the message as stored
   */
  public Message liveMessage(String queue, Instant at, int priority) {
    return find(enqueue(queue, new StoreParams.NewRow(payload(priority), null, null, null, priority), at));
  }

  /**
   * A live message enqueued at {@code at} and claimable only after {@code delay}.
   *
   * @param queue the queue
   * @param at when it is enqueued
   * @param delay how long after {@code at} it becomes claimable
   * @return the message as stored
   */
  public Message delayedMessage(String queue, Instant at, Duration delay) {
    return find(enqueue(queue, new StoreParams.NewRow(payload(0), delay, null, null, 0), at));
  }

  /**
   * A message enqueued and claimed at {@code at} under a lease of {@link #LEASE}, without owner.
   *
   * @param queue the queue
   * @param at when it is enqueued and claimed
   * @return the claimed message, carrying its lease token
   */
  public Message leasedMessage(String queue, Instant at) {
    return leasedMessage(queue, LEASE, null, at);
  }

  /**
   * A message enqueued and claimed at {@code at}.
   *
   * @param queue the queue
   * @param lease the lease length
   * @param workerId the lease owner, or null
   * @param at when it is enqueued and claimed
   * @return the claimed message, carrying its lease token; its lease ends at {@code at + lease}
   */
  public Message leasedMessage(String queue, Duration lease, @Nullable Long workerId, Instant at) {
    long id = enqueue(queue, row(0), at);
    return claimOne(queue, id, lease, workerId, at);
  }

  /**
   * A message whose lease of {@link #LEASE} ended one second before {@code at}: claimed at
   * {@code at - LEASE - 1s}, never settled.
   *
   * @param queue the queue
   * @param at an instant at which the lease has expired
   * @return the claimed message with its (expired) lease token
   */
  public Message expiredLease(String queue, Instant at) {
    return leasedMessage(queue, LEASE, null, at.minus(LEASE).minusSeconds(1));
  }

  /**
   * An archived message: claimed one second before {@code at} and archived with its lease at
   * {@code at}.
   *
   * @param queue the queue
   * @param at when it is archived
   * @return the message as stored
   */
  public Message archivedMessage(String queue, Instant at) {
    Message m = leasedMessage(queue, LEASE, null, at.minusSeconds(1));
    if (!Boolean.TRUE.equals(driver.archive(new StoreParams.LeaseRef(m.id(), lease(m), at)).block(TIMEOUT))) {
      throw new IllegalStateException("message " + m.id() + " could not be archived");
    }
    return find(m.id());
  }

  /**
   * A message dead-lettered at {@code at} by the claim that found it exhausted: enqueued at
   * {@code at - maxAttempts seconds}, then claimed with a one-second lease once every second (each
   * claim at the previous lease's expiry) until its attempts reached the queue's max attempts; the
   * claim at {@code at} moved it to the dead state.
   *
   * @param queue the queue
   * @param at when it is dead-lettered
   * @return the message as stored
   */
  public Message deadMessage(String queue, Instant at) {
    int maxAttempts = driver.findQueue(queue).blockOptional(TIMEOUT)
        .orElseThrow(() -> new IllegalStateException("no queue " + queue))
        .maxAttempts();
    Duration lease = Duration.ofSeconds(1);
    Instant start = at.minusSeconds(maxAttempts);
    long id = enqueue(queue, row(0), start);
    for (int attempt = 0; attempt < maxAttempts; attempt++) {
      claimOne(queue, id, lease, null, start.plusSeconds(attempt));
    }
    StoreResults.Claimed last = driver.claim(new StoreParams.Claim(queue, 1, lease, null, at)).block(TIMEOUT);
    if (last == null || !last.claimed().isEmpty() || last.deadLettered().size() != 1
        || last.deadLettered().get(0).id() != id) {
      throw new IllegalStateException("message " + id + " was not dead-lettered by the claim: " + last);
    }
    return find(id);
  }

  private Message claimOne(String queue, long expectedId, Duration lease, @Nullable Long workerId, Instant at) {
    StoreResults.Claimed c = driver.claim(new StoreParams.Claim(queue, 1, lease, workerId, at)).block(TIMEOUT);
    if (c == null || c.claimed().size() != 1 || c.claimed().get(0).id() != expectedId) {
      throw new IllegalStateException("claiming message " + expectedId + " from " + queue + " got " + c);
    }
    return c.claimed().get(0);
  }

  /**
   * Reads a message that must exist.
   *
   * @param id the message
   * @return the message as stored
   */
  public Message find(long id) {
    return driver.findMessage(id).blockOptional(TIMEOUT)
        .orElseThrow(() -> new IllegalStateException("no message " + id));
  }

  /**
   * The lease token of a claimed message.
   *
   * @param m the message
   * @return its token
   */
  public static java.util.UUID lease(Message m) {
    if (m.leaseToken() == null || m.state() != MessageState.LIVE) {
      throw new IllegalStateException("message " + m.id() + " holds no lease: " + m);
    }
    return m.leaseToken();
  }

  // ---------------------------------------------------------------- workers

  /**
   * Registers a worker with a unique name, on host {@code host-a} with pid 42.
   *
   * @param queue its queue, or null
   * @param at when it registers (its first heartbeat)
   * @return the worker
   */
  public WorkerInfo worker(@Nullable String queue, Instant at) {
    return driver.registerWorker(new StoreParams.RegisterWorker(uniqueName("w"), queue, "host-a", 42, at))
        .blockOptional(TIMEOUT)
        .orElseThrow(() -> new IllegalStateException("no worker registered"));
  }

  /**
   * A worker that is stale at {@code at}: its last heartbeat was {@code staleAfter} plus one second
   * earlier.
   *
   * @param queue its queue, or null
   * @param staleAfter the heartbeat age beyond which it is stale
   * @param at when it is judged
   * @return the worker
   */
  public WorkerInfo staleWorker(@Nullable String queue, Duration staleAfter, Instant at) {
    return worker(queue, at.minus(staleAfter).minusSeconds(1));
  }

  // ---------------------------------------------------------------- workflows

  /**
   * A run created by the factory, with the trigger message's lease while a worker holds it.
   *
   * @param id the run
   * @param workflow its workflow (also its queue)
   * @param message its trigger message as claimed, or null when no worker holds it
   */
  public record Run(long id, String workflow, @Nullable Message message) {

    /**
     * The lease of the trigger message.
     *
     * @param now the clock of the operation using it
     * @return the lease reference
     */
    public StoreParams.LeaseRef lease(Instant now) {
      if (message == null) {
        throw new IllegalStateException("run " + id + " has no leased message");
      }
      return new StoreParams.LeaseRef(message.id(), Rows.lease(message), now);
    }
  }

  /**
   * Registers a workflow with a unique name and {@link #MAX_ATTEMPTS}.
   *
   * @param at when it is registered
   * @return its name
   */
  public String workflow(Instant at) {
    String name = uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, null, MAX_ATTEMPTS, at)).block(TIMEOUT);
    return name;
  }

  /**
   * Triggers a QUEUED run without idempotency key or timeout.
   *
   * @param workflow the workflow
   * @param at when it is triggered
   * @return the run; no worker holds its message
   */
  public Run queuedRun(String workflow, Instant at) {
    StoreResults.Triggered t = driver.triggerRun(
        new StoreParams.TriggerRun(workflow, workflow, null, "{\"order\": 1}", null, null, null, at)).block(TIMEOUT);
    if (t == null || !t.created()) {
      throw new IllegalStateException("no run triggered: " + t);
    }
    return new Run(t.runId(), workflow, null);
  }

  /**
   * A run that a worker has begun: triggered, its message claimed under {@link #LEASE} and the run
   * begun, all at {@code at}.
   *
   * @param workflow the workflow
   * @param at when it all happens
   * @return the run with its message's lease
   */
  public Run runningRun(String workflow, Instant at) {
    Run queued = queuedRun(workflow, at);
    StoreResults.Claimed c = driver.claim(new StoreParams.Claim(workflow, 1, LEASE, null, at)).block(TIMEOUT);
    if (c == null || c.claimed().size() != 1) {
      throw new IllegalStateException("the trigger message of run " + queued.id() + " was not claimed: " + c);
    }
    Message message = c.claimed().get(0);
    if (message.payload().path("run_id").asLong() != queued.id()) {
      throw new IllegalStateException("claimed another run's message: " + message);
    }
    expect(driver.beginRun(new StoreParams.BeginRun(queued.id(), RunTransitions.BEGIN, at)).block(TIMEOUT).run(), RunStatus.RUNNING);
    return new Run(queued.id(), workflow, message);
  }

  /**
   * A run of a new workflow in the given status, every operation at {@code at}: QUEUED as
   * triggered; RUNNING begun with its message leased; PAUSED paused while running; SUCCESS
   * ({@code {"ok": true}}) and ERROR ({@code "boom"}) finished by their worker; CANCELLING cancelled
   * ({@code "stop"}) while running; CANCELLED cancelled ({@code "stop"}) while queued.
   *
   * @param status the status wanted
   * @param at when it all happens
   * @return the run, with its message's lease while a worker holds it (RUNNING, PAUSED, CANCELLING)
   */
  public Run runIn(RunStatus status, Instant at) {
    String workflow = workflow(at);
    return switch (status) {
      case QUEUED -> queuedRun(workflow, at);
      case RUNNING -> runningRun(workflow, at);
      case PAUSED -> control(runningRun(workflow, at), StoreParams.RunControl.PAUSE, RunStatus.PAUSED, at);
      case CANCELLING ->
          control(runningRun(workflow, at), StoreParams.RunControl.CANCEL, RunStatus.CANCELLING, at);
      case CANCELLED -> control(queuedRun(workflow, at), StoreParams.RunControl.CANCEL, RunStatus.CANCELLED, at);
      case SUCCESS -> finish(runningRun(workflow, at), RunStatus.SUCCESS, "{\"ok\": true}", null, at);
      case ERROR -> finish(runningRun(workflow, at), RunStatus.ERROR, null, "boom", at);
    };
  }

  private Run control(Run run, StoreParams.RunControl action, RunStatus expected, Instant at) {
    expect(driver.controlRun(RunTransitions.control(run.id(), action,
        action == StoreParams.RunControl.CANCEL ? "stop" : null, at)).block(TIMEOUT), expected);
    return run;
  }

  private Run finish(Run run, RunStatus status, @Nullable String output, @Nullable String error, Instant at) {
    RunStatus ended = driver.finishRun(new StoreParams.FinishRun(run.id(), run.lease(at), status, RunTransitions.finish(status), output, error, at))
        .block(TIMEOUT);
    if (ended != status) {
      throw new IllegalStateException("run " + run.id() + " ended " + ended + ", not " + status);
    }
    return new Run(run.id(), run.workflow(), null);
  }

  private static void expect(@Nullable RunInfo run, RunStatus status) {
    if (run == null || run.status() != status) {
      throw new IllegalStateException("expected a " + status + " run, got " + run);
    }
  }
}
