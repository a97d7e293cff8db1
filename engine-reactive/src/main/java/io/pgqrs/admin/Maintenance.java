package io.pgqrs.admin;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreUnavailableException;
import reactor.core.publisher.Mono;

/**
 * Background maintenance of a store: sweeps that stop workers which stopped heartbeating, hand
 * their leased messages back at once, and purge archived messages older than the retention.
 *
 * <p>Every connected store runs a sweep about every {@link PgqrsConfig#maintenanceInterval()}
 * (with jitter) on its own; set the interval to zero to turn that off and call {@link #runOnce()}
 * from a scheduler of your own. Sweeps are safe with many instances sharing a schema: one
 * transaction takes the schema's sweep row, so at most one instance sweeps at a time and a sweep
 * done by one instance is not repeated by the others before the interval has passed.
 */
public interface Maintenance {

  /**
   * Runs one sweep now, even if the next one is not due yet. Cold: each subscription sweeps again.
   * If another instance is sweeping at that moment, nothing is done and the report says
   * {@link SweepReport#ran()} is false. Errors: {@link StoreUnavailableException} when the store
   * is closed or unreachable, {@link SchemaNotInstalledException} before {@code install()}.
   * Cancelling rolls the sweep back.
   *
   * @return what the sweep did
   */
  Mono<SweepReport> runOnce();
}
