package io.pgqrs.sqlite;

import io.pgqrs.PgqrsException;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreOperationException;
import io.pgqrs.StoreUnavailableException;
import java.sql.SQLException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/** Translates SQLite driver errors into the project's exceptions, naming the operation. */
final class SqliteErrors {

  private SqliteErrors() {}

  static Throwable translate(String operation, String where, Throwable error) {
    if (error instanceof PgqrsException) {
      return error;
    }
    String message = String.valueOf(error.getMessage());
    if (message.contains("no such table")) {
      return new SchemaNotInstalledException(where,
          operation + ": pgqrs is not installed in " + where + " (" + message + "); run admin().install()");
    }
    if (error instanceof SQLiteException e) {
      SQLiteErrorCode code = e.getResultCode();
      String detail = operation + ": " + message;
      switch (code.code & 0xff) {
        case 5, 6, 10, 13, 14 -> { // BUSY, LOCKED, IOERR, FULL, CANTOPEN
          return new StoreUnavailableException(operation, detail, e);
        }
        default -> {
          return new StoreOperationException(operation, detail, e);
        }
      }
    }
    if (error instanceof SQLException) {
      return new StoreOperationException(operation, operation + ": " + message, error);
    }
    return new StoreOperationException(operation, operation + " failed: " + error, error);
  }
}
