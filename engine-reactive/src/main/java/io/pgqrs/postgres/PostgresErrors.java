package io.pgqrs.postgres;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsException;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreOperationException;
import io.pgqrs.StoreUnavailableException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Translates driver errors into the project's exceptions, naming the operation. Errors that
 * retrying cannot fix because the connection path is set up wrong (the symptoms of a
 * transaction-mode pooler the DSN does not declare, or of a pooler refusing a startup parameter)
 * become a {@link ConfigurationException} with a hint, never a transient error.
 */
final class PostgresErrors {

  /** The DSN parameter that makes the engine safe behind a transaction-mode pooler. */
  static final String POOLER_HINT = "behind a transaction-mode pooler (PgBouncer pool_mode = transaction), add"
      + " pooler=transaction to the DSN";

  /** What PgBouncer must be told about the startup parameters r2dbc-postgresql sends. */
  static final String STARTUP_HINT = "set ignore_startup_parameters = extra_float_digits in pgbouncer.ini"
      + " (r2dbc-postgresql sends it at startup)";

  /**
   * PgBouncer reports its own refusals as 08P01 too; these ones are about capacity or a server
   * that is away, which waiting may cure.
   */
  private static final String[] POOLER_TRANSIENT_MESSAGES = {
    "no more connections allowed", "query_wait_timeout", "cannot connect to server", "server conn crashed",
    "server login has been failing", "pgbouncer is shutting down", "client_idle_timeout", "server_connect_timeout"};

  private PostgresErrors() {}

  static Throwable translate(String operation, String schema, Throwable error) {
    if (error instanceof PgqrsException) {
      return error;
    }
    // Connecting wraps the server's refusal in the driver's own connection error: look at causes too.
    int depth = 0;
    for (Throwable t = error; t != null && depth < 8; t = t.getCause(), depth++) {
      if (t instanceof R2dbcException r) {
        String state = r.getSqlState();
        ConfigurationException misconfigured = misconfiguration(r, state,
            operation + ": " + r.getMessage() + (state == null ? "" : " [SQLSTATE " + state + "]"));
        if (misconfigured != null) {
          return misconfigured;
        }
      }
    }
    if (error instanceof R2dbcException r) {
      String state = r.getSqlState();
      String detail = operation + ": " + r.getMessage() + (state == null ? "" : " [SQLSTATE " + state + "]");
      if ("42P01".equals(state) || "3F000".equals(state)) {
        return new SchemaNotInstalledException(schema,
            operation + ": pgqrs is not installed in schema '" + schema + "' (" + r.getMessage()
                + "); run admin().install()");
      }
      if (state != null && isTransientState(state)) {
        return new StoreUnavailableException(operation, detail, r);
      }
      if (r instanceof R2dbcTransientException || r instanceof R2dbcNonTransientResourceException) {
        return new StoreUnavailableException(operation, detail, r);
      }
      return new StoreOperationException(operation, detail, r);
    }
    if (isConnectionLoss(error)) {
      return new StoreUnavailableException(operation, operation + ": connection failed: " + error, error);
    }
    return new StoreOperationException(operation, operation + " failed: " + error, error);
  }

  private static @Nullable ConfigurationException misconfiguration(R2dbcException r,
      @Nullable String state, String detail) {
    String message = String.valueOf(r.getMessage());
    if (message.contains("unsupported startup parameter")) {
      // extra_float_digits comes from the driver; the timeouts come from pgqrs, which sends them per
      // transaction instead once told about the pooler.
      return new ConfigurationException("pooler", detail + ": the pooler refused a startup parameter; "
          + STARTUP_HINT + ", and " + POOLER_HINT + " (pgqrs then sends its timeouts with each transaction)", r);
    }
    if (state == null) {
      return null;
    }
    String hint = switch (state) {
      case "42P05" -> "a prepared statement of that name exists already on the server connection, which happens when"
          + " clients share server connections";
      case "26000" -> "the prepared statement is not on this server connection, which happens when clients share"
          + " server connections";
      case "25P02" -> "the server connection is inside a transaction that failed, which happens when clients share"
          + " server connections";
      case "08P01" -> isPoolerTransient(message) ? null : "the server or pooler saw a protocol violation";
      default -> null;
    };
    return hint == null ? null
        : new ConfigurationException("pooler", detail + ": " + hint + "; " + POOLER_HINT, r);
  }

  private static boolean isPoolerTransient(String message) {
    for (String m : POOLER_TRANSIENT_MESSAGES) {
      if (message.contains(m)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isTransientState(String state) {
    return state.startsWith("08") // connection exceptions
        || state.startsWith("57P") // admin shutdown, crash shutdown, cannot connect now
        || state.startsWith("53") // insufficient resources, too many connections
        || state.equals("40001") // serialization failure
        || state.equals("40P01") // deadlock detected
        || state.equals("55P03") // lock not available: lock_timeout, or NOWAIT
        || state.equals("57014"); // query canceled: statement_timeout, or a cancel request
  }

  private static boolean isConnectionLoss(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof IOException || t instanceof ClosedChannelException || t instanceof TimeoutException
          || t.getClass().getName().startsWith("io.netty.channel")
          || t.getClass().getName().startsWith("reactor.netty")
          || t.getClass().getName().startsWith("io.r2dbc.pool")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    String message = String.valueOf(error.getMessage());
    return error instanceof IllegalStateException
        && (message.contains("closed") || message.contains("disposed") || message.contains("shutdown"));
  }
}
