/**
 * Workers: the persisted identity of a consuming process (name, queue, status, heartbeat).
 * {@link io.pgqrs.worker.Workers} registers, heartbeats, suspends, resumes, stops and lists them
 * and judges their {@link io.pgqrs.worker.WorkerHealth health}. Consumers of
 * {@link io.pgqrs.queue} and workflow workers of {@link io.pgqrs.workflow} register one each; the
 * maintenance services of {@link io.pgqrs.admin} release the leases of workers whose heartbeat
 * stopped.
 */
@NullMarked
package io.pgqrs.worker;

import org.jspecify.annotations.NullMarked;
