package io.pgqrs.admin;

import reactor.core.publisher.Mono;

/** Installing the schema, checking it, removing it, and reading metrics. All methods are cold. */
public interface Admin {

  /**
   * Creates the schema (if needed) and applies every missing migration in one transaction.
   * Idempotent and safe when several processes run it at once: they serialize on a lock and the
   * later ones find nothing to do.
   *
   * @return completes when the schema is at the latest version; errors leave it unchanged
   */
  Mono<Void> install();

  /**
   * Reports the installed version and any missing object. Never changes anything.
   *
   * @return the report
   */
  Mono<SchemaReport> verify();

  /**
   * Removes every table, index and function {@link #install()} made, and the schema itself if
   * install created it and nothing else lives in it. Idempotent.
   *
   * @return completes when removed
   */
  Mono<Void> uninstall();

  /**
   * Counts of every queue and of workers, summed.
   *
   * @return the system metrics
   */
  Mono<SystemMetrics> systemMetrics();
}
