/**
 * Actuator support, active when Spring Boot's actuator and health modules are on the class path:
 * the {@code pgqrs} {@link io.pgqrs.spring.actuate.PgqrsHealthIndicator} and the {@code pgqrs}
 * {@link io.pgqrs.spring.actuate.PgqrsEndpoint}.
 */
@NullMarked
package io.pgqrs.spring.actuate;

import org.jspecify.annotations.NullMarked;
