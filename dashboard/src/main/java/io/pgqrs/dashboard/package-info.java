/**
 * The operators' web dashboard over a {@link io.pgqrs.Store}'s public API.
 *
 * <p>{@link io.pgqrs.dashboard.PgqrsDashboard} builds the Spring WebFlux functional routes (server
 * rendered HTML, one script, one style sheet, and a server-sent event stream of the overview's
 * numbers); mount them in any WebFlux application, or serve them on their own with
 * {@link io.pgqrs.dashboard.DashboardServer}. Every page reads the store when it is requested;
 * actions (replay, purge, cancel, pause, resume, signal) are form POSTs, refused in read-only mode.
 */
@NullMarked
package io.pgqrs.dashboard;

import org.jspecify.annotations.NullMarked;
