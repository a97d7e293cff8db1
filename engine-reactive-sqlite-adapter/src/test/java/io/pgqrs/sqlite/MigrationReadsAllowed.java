package io.pgqrs.sqlite;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Lets {@code SqliteDriver.install()} read its migration scripts from the class path on a
 * non-blocking thread while BlockHound is installed. On JDBC that read runs on the store's writer
 * thread; on Hrana the continuation runs on a Netty event loop. To be removed once the driver reads
 * the migration texts eagerly (at class initialisation, like the migration index).
 */
public final class MigrationReadsAllowed implements BlockHoundIntegration {

  /** Creates the integration; called by {@link java.util.ServiceLoader}. */
  public MigrationReadsAllowed() {}

  @Override
  public void applyTo(BlockHound.Builder builder) {
    builder.allowBlockingCallsInside("io.pgqrs.sqlite.SqliteDriver", "readResource");
  }
}
