package io.pgqrs.workflow;

import io.pgqrs.SerializationFailedException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Low-level control of one execution of a run, from {@link Runs#begin(Delivery)}: the primitives
 * that {@link WorkflowFunction} bodies are built on. Every method is cold. The delivery's message
 * lease is the run's lease: the consumer keeps it alive, and every record is fenced by it, so a
 * worker whose lease was lost gets {@code false} and changes nothing. The run's recorded steps
 * were read when it was begun: acquiring a step costs no round trip, recording one costs one.
 */
public interface RunExecution {

  /**
   * The run as it was when this execution began.
   *
   * @return the run
   */
  RunInfo run();

  /**
   * Looks a step up in the run's history read at begin (no round trip): its record, a retry not yet
   * due, or an instruction to execute it; also reports a run that must stop (not running when it was
   * begun, or past its deadline). A step new to this API gets the next position in program order,
   * as the pipeline runtime numbers root steps, so the two interoperate step by step.
   *
   * @param stepId the step's readable identity in the run
   * @param lease at least a millisecond; kept for compatibility, since the run's message lease covers
   *     every step
   * @return what was found; fails with {@link io.pgqrs.InvalidArgumentException} for a bad lease
   */
  Mono<StepAcquisition> acquireStep(String stepId, Duration lease);

  /**
   * Extends the run's message lease (which covers every step) to {@code lease} from the store's now;
   * zero changes nothing.
   *
   * @param step the acquisition
   * @param lease the new length from now
   * @return the run's status if the lease is still held, else empty
   */
  Mono<RunStatus> extendStep(StepAcquisition.Execute step, Duration lease);

  /**
   * Records a step's output.
   *
   * @param step the acquisition
   * @param output the output, or null for an empty step
   * @return false if the lease was lost; fails with {@link SerializationFailedException} (nothing
   *     recorded) if the output cannot be serialized
   */
  Mono<Boolean> recordStepSuccess(StepAcquisition.Execute step, @Nullable Object output);

  /**
   * Records a step's failure: for good when {@code retryAfter} is null, else as a retry due that
   * long after the store's now (the due time is computed by the store's clock, not the JVM's).
   *
   * @param step the acquisition
   * @param error the error text
   * @param retryAfter how long until it may execute again (zero or more), or null to fail it for good
   * @return false if the lease was lost; fails with {@link io.pgqrs.InvalidArgumentException} for a
   *     negative delay
   */
  Mono<Boolean> recordStepFailure(StepAcquisition.Execute step, String error, @Nullable Duration retryAfter);

  /**
   * Finishes the run with SUCCESS (CANCELLED if a cancel arrived meanwhile) and archives its
   * message, in one transaction.
   *
   * @param output the output, or null
   * @return false if the run had finished already or the message lease was lost
   */
  Mono<Boolean> complete(@Nullable Object output);

  /**
   * Finishes the run with ERROR and archives its message, in one transaction.
   *
   * @param error the error text
   * @return false if the run had finished already or the message lease was lost
   */
  Mono<Boolean> fail(String error);

  /**
   * Finishes a CANCELLING run as CANCELLED and archives its message.
   *
   * @return false if the run had finished already or the message lease was lost
   */
  Mono<Boolean> acknowledgeCancel();

  /**
   * Parks the run: its message is released for {@code after} (counted by the store's clock from
   * its now; at once if null), or until a signal it waits for arrives, a resume or a cancel,
   * never beyond the run's deadline; a paused run stays parked until resumed.
   *
   * @param after how long until the run has work again (zero or more), or null for now
   * @return false if the message lease was lost; fails with
   *     {@link io.pgqrs.InvalidArgumentException} for a negative duration
   */
  Mono<Boolean> park(@Nullable Duration after);

  /**
   * Pauses the run from inside and parks it until resumed.
   *
   * @return false if the message lease was lost
   */
  Mono<Boolean> pause();
}
