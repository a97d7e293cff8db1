package io.pgqrs.spring.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pgqrs.Store;
import io.pgqrs.metrics.PgqrsMetrics;
import java.time.Duration;
import org.springframework.beans.factory.DisposableBean;

/**
 * The store's meters bound to one registry for the application's lifetime. Not a
 * {@code MeterBinder} bean on purpose: Spring Boot binds those to its registry itself, and a
 * {@link PgqrsMetrics} binds once.
 */
public final class PgqrsMeters implements DisposableBean {

  private final PgqrsMetrics metrics;

  /**
   * Binds the store's meters to {@code registry} now.
   *
   * @param store the store
   * @param registry the registry
   * @param refreshInterval how often the queue gauges are read from the store
   */
  public PgqrsMeters(Store store, MeterRegistry registry, Duration refreshInterval) {
    this.metrics = new PgqrsMetrics(store, refreshInterval, Tags.empty());
    metrics.bindTo(registry);
  }

  /**
   * The bound meters, for a refresh of the gauges on demand.
   *
   * @return the meters
   */
  public PgqrsMetrics metrics() {
    return metrics;
  }

  /** Removes the meters from the registry and stops refreshing them. */
  @Override
  public void destroy() {
    metrics.close();
  }
}
