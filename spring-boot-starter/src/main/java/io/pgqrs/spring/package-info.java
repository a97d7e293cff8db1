/**
 * Spring Boot auto-configuration of pgqrs: {@link io.pgqrs.spring.PgqrsProperties} ({@code pgqrs.*}),
 * a connected {@link io.pgqrs.Store}, consumers for {@link io.pgqrs.spring.PgqrsHandler} methods
 * and workers for {@link io.pgqrs.workflow.WorkflowMethod} beans, started with the application
 * and drained before the store closes.
 */
@NullMarked
package io.pgqrs.spring;

import org.jspecify.annotations.NullMarked;
