/**
 * Testing pgqrs handlers and workflows: {@link io.pgqrs.testkit.PgqrsExtension} (JUnit 5) gives each
 * test a fresh {@link io.pgqrs.Store}, a {@link io.pgqrs.testkit.TestClock} that moves the store's
 * time without waiting, and a {@link io.pgqrs.testkit.PgqrsTestKit} of {@code Mono}/{@code Flux}
 * helpers for {@code StepVerifier}: drain a queue, run a workflow to its end, inspect dead letters
 * and steps.
 *
 * <pre>{@code
 * @PgqrsTest
 * class EmailHandlerTest {
 *   @Test
 *   void retriesThenSucceeds(Store store, TestClock clock, PgqrsTestKit kit) { ... }
 * }
 * }</pre>
 */
@NullMarked
package io.pgqrs.testkit;

import org.jspecify.annotations.NullMarked;
