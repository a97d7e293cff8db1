/**
 * Administration: {@link io.pgqrs.admin.Admin} installs, verifies and uninstalls the schema and
 * reads {@link io.pgqrs.admin.SystemMetrics}; {@link io.pgqrs.admin.Maintenance} runs the
 * background maintenance services on demand and reports what they did. Every store runs the same
 * services on its own; nothing here is needed for queues ({@link io.pgqrs.queue}) or workflows
 * ({@link io.pgqrs.workflow}) to work.
 */
@NullMarked
package io.pgqrs.admin;

import org.jspecify.annotations.NullMarked;
