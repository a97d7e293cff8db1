package io.pgqrs.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Runs a class's {@code main} in a child JVM on this test's class path, then kills it with SIGKILL. */
public final class ChildJvm {

  /**
   * How long {@link #killAfter} reads at most: a child that never prints what the test waits for
   * is killed then, and the test sees fewer lines than it wanted instead of hanging.
   */
  private static final Duration DEADLINE = Duration.ofMinutes(2);

  private ChildJvm() {}

  /**
   * Starts {@code main} with {@code args}, reads its standard output until {@code wanted} lines
   * matched {@code line} (or the output ends, or two minutes passed), then kills it with SIGKILL:
   * no shutdown hook runs and nothing is released.
   *
   * @param main the class whose {@code main} runs
   * @param line which output lines count
   * @param wanted how many of them to wait for
   * @param args the program's arguments
   * @return how many matching lines were read before the kill
   * @throws IOException if the child cannot start
   * @throws InterruptedException if interrupted while waiting for the child to die
   */
  public static int killAfter(Class<?> main, Predicate<String> line, int wanted, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    // Killing the child closes its output, which ends the read below.
    CompletableFuture.delayedExecutor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).execute(child::destroyForcibly);
    int seen = 0;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String text;
      while (seen < wanted && (text = out.readLine()) != null) {
        if (line.test(text)) {
          seen++;
        }
      }
    } finally {
      child.destroyForcibly();
      if (!child.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the child JVM did not die within 30 s of SIGKILL");
      }
    }
    return seen;
  }
}
