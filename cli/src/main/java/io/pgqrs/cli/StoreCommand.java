package io.pgqrs.cli;

import io.pgqrs.Store;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A command that works on the store: it connects, runs, prints its result and closes the store,
 * whatever happened. Its {@link #run} blocks on the engine's {@code Mono}s: it runs on the
 * process's main thread, never on a Reactor thread. An error ends the command and reaches
 * {@link Errors}, which prints it and picks the exit code.
 */
abstract class StoreCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Override
  public final Integer call() {
    PgqrsCli cli = cli();
    checkArguments();
    Output output = new Output(spec.commandLine().getOut(), cli.json());
    Store store = cli.connect();
    RuntimeException failure = null;
    try {
      return run(store, output);
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    } finally {
      try {
        store.close().block();
      } catch (RuntimeException e) {
        // The command's own error says more than a failed close after it.
        if (failure == null) {
          throw e;
        }
        failure.addSuppressed(e);
      }
    }
  }

  /** Checks what the parser cannot, before connecting; throws {@link CommandFailure} to refuse. */
  void checkArguments() {}

  /**
   * Runs the command and prints its result.
   *
   * @return the exit code, {@link ExitCodes#OK} unless the command found a failure it reports itself
   */
  abstract int run(Store store, Output out);

  final PgqrsCli cli() {
    return (PgqrsCli) spec.root().userObject();
  }

  /** Waits for a {@code Mono} that completes with a value; its error is thrown as is. */
  static <T> T await(Mono<T> mono, String what) {
    return Objects.requireNonNull(mono.block(), () -> what + " completed without a value");
  }

  /** Waits for every element of a {@code Flux}; its error is thrown as is. */
  static <T> List<T> awaitAll(Flux<T> flux) {
    List<T> all = flux.collectList().block();
    return all == null ? List.of() : all;
  }
}
