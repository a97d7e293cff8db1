/**
 * {@code pgqrs}, the operators' command-line tool: it installs, verifies and removes the schema and
 * inspects and controls queues, messages, dead letters, workflow runs and workers of a store, through
 * the engine's public API. {@link io.pgqrs.cli.PgqrsCli} is the entry point; the exit codes are in
 * {@link io.pgqrs.cli.ExitCodes}. Everything else in this package is the commands' implementation
 * and not API.
 *
 * <p>Each command connects, runs its operation, prints one result (an aligned table or text, or
 * with {@code --json} one JSON document) and closes the store. Commands block on the engine's
 * {@code Mono}s: they run on the main thread of a short-lived process, never on a Reactor thread.
 */
@NullMarked
package io.pgqrs.cli;

import org.jspecify.annotations.NullMarked;
