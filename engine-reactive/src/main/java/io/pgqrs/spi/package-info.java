/**
 * The store SPI: {@link io.pgqrs.spi.StoreDriver} has one method per durable operation, taking the
 * immutable records of {@link io.pgqrs.spi.StoreParams}; backends register a
 * {@link io.pgqrs.spi.StoreDriverProvider} with {@link java.util.ServiceLoader}.
 */
@NullMarked
package io.pgqrs.spi;

import org.jspecify.annotations.NullMarked;
