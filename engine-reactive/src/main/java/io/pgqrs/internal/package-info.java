/**
 * The engine core behind the public API: the {@code Store} implementation ({@code Engine}), the
 * consumer and handler runtimes, the workflow runtime and its run contexts, the maintenance
 * services, payload validation and rate limiting. Not API: the few public types here (needed by
 * {@link io.pgqrs.Pgqrs} and by the backend modules) may change in any release, and no public type
 * of the API packages mentions them.
 */
@NullMarked
package io.pgqrs.internal;

import org.jspecify.annotations.NullMarked;
