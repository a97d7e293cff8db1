package io.pgqrs.sqlite;

import static io.pgqrs.sqlite.SqliteSql.sql;

import io.pgqrs.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolBuilder;
import reactor.pool.PoolShutdownException;

/**
 * The SQLite executor: one JDBC connection, used only from one dedicated thread (the single
 * writer), so no Reactor or Netty thread ever runs JDBC. A one-slot reactor-pool hands the
 * connection to one unit of work at a time, in FIFO order, and takes it back on completion, error
 * or cancellation. Prepared statements are cached per SQL text.
 */
final class JdbcExecutor implements SqlExecutor {

  private final Connection connection;
  private final ExecutorService thread;
  private final Scheduler scheduler;
  private final InstrumentedPool<Connection> slot;
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private final String where;
  private final AtomicBoolean closed = new AtomicBoolean();

  private JdbcExecutor(Connection connection, ExecutorService thread, Scheduler scheduler, String where) {
    this.connection = connection;
    this.thread = thread;
    this.scheduler = scheduler;
    this.where = where;
    this.slot = PoolBuilder.from(Mono.just(connection)).sizeBetween(0, 1).buildPool();
  }

  /** Opens a connection on a new writer thread; cold. */
  static Mono<JdbcExecutor> open(String name, String where, JdbcOpener opener) {
    return Mono.defer(() -> {
      ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pgqrs-sqlite-" + name);
        t.setDaemon(true);
        return t;
      });
      Scheduler scheduler = Schedulers.fromExecutorService(thread, "pgqrs-sqlite-" + name);
      return Mono.fromCallable(opener::open)
          .subscribeOn(scheduler)
          .map(c -> new JdbcExecutor(c, thread, scheduler, where))
          .onErrorMap(e -> {
            thread.shutdown();
            return new StoreUnavailableException("connect", "connect: cannot open SQLite database " + where
                + ": " + e.getMessage(), e);
          });
    });
  }

  /** Opens the JDBC connection; runs on the writer thread. */
  @FunctionalInterface
  interface JdbcOpener {
    Connection open() throws SQLException;
  }

  private <T> Mono<T> onWriter(String operation, JdbcCall<T> call) {
    return Mono.fromCallable(() -> {
          if (closed.get()) {
            throw new StoreUnavailableException(operation, operation + ": the store is closed", null);
          }
          return call.run();
        })
        .subscribeOn(scheduler)
        .onErrorMap(e -> SqliteErrors.translate(operation, where, e));
  }

  @FunctionalInterface
  private interface JdbcCall<T> {
    T run() throws SQLException;
  }

  private PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = connection.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  private static void bind(PreparedStatement ps, @Nullable Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }

  private final class Session implements SqlSession {
    private final String operation;

    Session(String operation) {
      this.operation = operation;
    }

    @Override
    public Mono<List<SqlRow>> query(String sql, @Nullable Object... args) {
      return onWriter(operation, () -> {
        PreparedStatement ps = prepare(sql);
        bind(ps, args);
        List<SqlRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData md = rs.getMetaData();
          int n = md.getColumnCount();
          String[] labels = new String[n];
          for (int i = 0; i < n; i++) {
            labels[i] = md.getColumnLabel(i + 1).toLowerCase(Locale.ROOT);
          }
          while (rs.next()) {
            Map<String, @Nullable Object> values = new LinkedHashMap<>(n * 2);
            for (int i = 0; i < n; i++) {
              values.put(labels[i], rs.getObject(i + 1));
            }
            rows.add(new SqlRow(values));
          }
        }
        return rows;
      });
    }

    @Override
    public Mono<Long> update(String sql, @Nullable Object... args) {
      return onWriter(operation, () -> {
        PreparedStatement ps = prepare(sql);
        bind(ps, args);
        return (long) ps.executeUpdate();
      });
    }

    @Override
    public Mono<Void> script(List<String> sqls) {
      return onWriter(operation, () -> {
        try (Statement st = connection.createStatement()) {
          for (String sql : sqls) {
            st.executeUpdate(sql);
          }
        }
        return true;
      }).then();
    }
  }

  /**
   * Whether a transaction is open on the connection. Touched only on the writer thread. A unit
   * cancelled while its BEGIN was running never sees its resource, so nobody rolls it back: the
   * next unit does, before it starts.
   */
  private boolean transactionOpen;

  private void execute(String sql) throws SQLException {
    try (Statement st = connection.createStatement()) {
      st.executeUpdate(sql);
    }
  }

  private void rollBackLeftover() throws SQLException {
    if (transactionOpen) {
      execute(sql("rollback"));
      transactionOpen = false;
    }
  }

  private Mono<Void> begin(String operation) {
    return onWriter(operation, () -> {
      rollBackLeftover();
      execute(sql("begin"));
      transactionOpen = true;
      return true;
    }).then();
  }

  private Mono<Void> end(String operation, String sql) {
    return onWriter(operation, () -> {
      if (transactionOpen) {
        execute(sql);
        transactionOpen = false;
      }
      return true;
    }).then();
  }

  @Override
  public <T> Mono<T> transaction(String operation, Function<SqlSession, Mono<T>> work) {
    // Cancellation schedules the rollback on the writer thread before the slot is released, so
    // the next unit of work always starts outside any transaction.
    return slot.withPoolable(c -> Flux.usingWhen(
                begin(operation).thenReturn(new Session(operation)),
                work,
                s -> end(operation, sql("commit")),
                (s, error) -> end(operation, sql("rollback")),
                s -> end(operation, sql("rollback"))))
        .singleOrEmpty()
        .onErrorMap(PoolShutdownException.class, e -> closedError(operation));
  }

  @Override
  public <T> Mono<T> statements(String operation, Function<SqlSession, Mono<T>> work) {
    return slot.withPoolable(c -> onWriter(operation, () -> {
          rollBackLeftover();
          return true;
        }).then(work.apply(new Session(operation))))
        .singleOrEmpty()
        .onErrorMap(PoolShutdownException.class, e -> closedError(operation));
  }

  private static StoreUnavailableException closedError(String operation) {
    return new StoreUnavailableException(operation, operation + ": the store is closed", null);
  }

  @Override
  public Mono<Void> close() {
    return Mono.defer(() -> {
      if (!closed.compareAndSet(false, true)) {
        return Mono.empty();
      }
      return slot.disposeLater()
          .then(Mono.fromRunnable(() -> {
            for (PreparedStatement ps : statements.values()) {
              try {
                ps.close();
              } catch (SQLException ignored) {
                // closing anyway
              }
            }
            try {
              connection.close();
            } catch (SQLException ignored) {
              // closing anyway
            }
          }).subscribeOn(scheduler))
          .doFinally(s -> {
            thread.shutdown();
            scheduler.dispose();
          })
          .then();
    });
  }
}
