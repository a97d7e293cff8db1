package io.pgqrs.spi;

import io.pgqrs.PgqrsConfig;
import reactor.core.publisher.Mono;

/**
 * Opens {@link StoreDriver}s for one backend. Found with {@link java.util.ServiceLoader}: list the
 * implementation in {@code META-INF/services/io.pgqrs.spi.StoreDriverProvider}.
 */
public interface StoreDriverProvider {

  /**
   * Whether this provider serves the backend a configuration selects.
   *
   * @param backend {@link PgqrsConfig#backend()}
   * @return true if served
   */
  boolean supports(String backend);

  /**
   * Opens a driver. Cold: nothing connects until subscription. Fails with
   * {@link io.pgqrs.ConfigurationException} for a DSN this backend cannot use and
   * {@link io.pgqrs.StoreUnavailableException} when the database cannot be reached.
   *
   * @param config the configuration
   * @return the driver, connected
   */
  Mono<StoreDriver> open(PgqrsConfig config);
}
