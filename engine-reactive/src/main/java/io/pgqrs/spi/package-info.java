/**
 * The store SPI, for backend modules only; not API: types here may change in any release, and no
 * public type of the API packages mentions them. {@link io.pgqrs.spi.StoreDriver} has one method
 * per durable operation, taking the immutable records of {@link io.pgqrs.spi.StoreParams} (each
 * with an optional {@code now} that overrides the database's clock, so tests can place rows in any
 * time state) and returning {@link io.pgqrs.spi.StoreResults}. Business rules that are not dialect
 * (state machines, retry decisions, which outcome dead-letters) are decided in the engine
 * ({@code io.pgqrs.internal}); the driver's statements are the guarded writes that carry them out,
 * and the driver conformance suite proves the backends give identical results. Backends register a
 * {@link io.pgqrs.spi.StoreDriverProvider} with {@link java.util.ServiceLoader}.
 */
@NullMarked
package io.pgqrs.spi;

import org.jspecify.annotations.NullMarked;
