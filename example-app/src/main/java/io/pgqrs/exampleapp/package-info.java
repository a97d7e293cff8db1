/**
 * The example application: a Spring Boot WebFlux checkout service built on the pgqrs starter.
 *
 * <p>{@code POST /orders} triggers the {@link io.pgqrs.exampleapp.CheckoutWorkflow checkout}
 * workflow (charge, wait for an {@code approval} signal, ship, enqueue a confirmation email),
 * {@code POST /orders/{id}/approve} sends the signal, {@code GET /orders/{id}} shows the run and
 * its steps, and {@link io.pgqrs.exampleapp.ConfirmationEmails} consumes the {@code emails} queue.
 * Every handler returns a {@code Mono}; nothing blocks a Reactor thread.
 */
@NullMarked
package io.pgqrs.exampleapp;

import org.jspecify.annotations.NullMarked;
