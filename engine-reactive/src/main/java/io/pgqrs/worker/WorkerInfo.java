package io.pgqrs.worker;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A registered worker: the persisted identity of a producer or consumer process.
 *
 * @param id the worker id, used as lease owner in claims
 * @param name the unique worker name
 * @param queue the queue it serves, null for a worker not bound to a queue
 * @param hostname the host it registered from
 * @param pid the process id it registered with
 * @param status its lifecycle state
 * @param startedAt when it registered
 * @param heartbeatAt its last heartbeat
 * @param stoppedAt when it stopped, for stopped workers
 */
public record WorkerInfo(
    long id,
    String name,
    @Nullable String queue,
    String hostname,
    long pid,
    WorkerStatus status,
    Instant startedAt,
    Instant heartbeatAt,
    @Nullable Instant stoppedAt) {}
