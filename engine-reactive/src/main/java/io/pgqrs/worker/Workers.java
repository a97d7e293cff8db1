package io.pgqrs.worker;

import io.pgqrs.queue.QueueNotFoundException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Worker registration and lifecycle. All methods are cold. */
public interface Workers {

  /**
   * Registers a worker in state {@link WorkerStatus#READY} with a first heartbeat.
   *
   * @param name a unique name (1 to 200 characters)
   * @param queue the queue it serves, or null
   * @return the worker; {@link WorkerAlreadyExistsException} if the name is taken,
   *     {@link QueueNotFoundException} if the queue does not exist
   */
  Mono<WorkerInfo> register(String name, @Nullable String queue);

  /**
   * Records a heartbeat.
   *
   * @param workerId the worker
   * @return the worker's status after the heartbeat, so a suspended worker learns it should pause;
   *     {@link WorkerNotFoundException} if there is none
   */
  Mono<WorkerStatus> heartbeat(long workerId);

  /**
   * Suspends a ready worker. Idempotent for a suspended one.
   *
   * @param workerId the worker
   * @return the worker; {@link InvalidWorkerStateException} if it is stopped
   */
  Mono<WorkerInfo> suspend(long workerId);

  /**
   * Resumes a suspended worker. Idempotent for a ready one.
   *
   * @param workerId the worker
   * @return the worker; {@link InvalidWorkerStateException} if it is stopped
   */
  Mono<WorkerInfo> resume(long workerId);

  /**
   * Stops a worker. Refused with {@link WorkerHasLeasesException} while it holds unexpired leases,
   * unless {@code releaseLeases} is true, in which case they are released (claimable at once) in
   * the same transaction. Idempotent for a stopped worker.
   *
   * @param workerId the worker
   * @param releaseLeases release its leases instead of refusing
   * @return the stopped worker
   */
  Mono<WorkerInfo> shutdown(long workerId, boolean releaseLeases);

  /**
   * Reads one worker.
   *
   * @param workerId the worker
   * @return the worker; {@link WorkerNotFoundException} if there is none
   */
  Mono<WorkerInfo> get(long workerId);

  /**
   * Lists workers, of one queue or all.
   *
   * @param queue the queue, or null for all workers
   * @return the workers ordered by id
   */
  Flux<WorkerInfo> list(@Nullable String queue);

  /**
   * Judges every worker's liveness by the store's clock.
   *
   * @param staleAfter a worker not stopped whose heartbeat is older than this is stale
   * @return one entry per worker, ordered by id
   */
  Flux<WorkerHealth> health(Duration staleAfter);

  /**
   * Whether this store registered the worker ({@link #register}, or a consumer or workflow worker
   * started from this store) and has not shut it down or deleted it since: a stale worker of this
   * store means this process stopped beating, one of another store may be a process that died.
   * Answered from this store's memory, without a read; never fails.
   *
   * @param workerId the worker
   * @return true if this store registered it and still runs it
   */
  boolean registeredHere(long workerId);

  /**
   * Deletes a worker record. Refused with {@link WorkerHasLeasesException} while it holds unexpired
   * leases.
   *
   * @param workerId the worker
   * @return completes when deleted; {@link WorkerNotFoundException} if there is none
   */
  Mono<Void> delete(long workerId);
}
