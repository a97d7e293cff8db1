package io.pgqrs.postgres;

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

/** Translates driver errors into the project's exceptions, naming the operation. */
final class PostgresErrors {

  private PostgresErrors() {}

  static Throwable translate(String operation, String schema, Throwable error) {
    if (error instanceof PgqrsException) {
      return error;
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

  private static boolean isTransientState(String state) {
    return state.startsWith("08") // connection exceptions
        || state.startsWith("57P") // admin shutdown, crash shutdown, cannot connect now
        || state.startsWith("53") // insufficient resources, too many connections
        || state.equals("40001") // serialization failure
        || state.equals("40P01") // deadlock detected
        || state.equals("55P03"); // lock not available
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
