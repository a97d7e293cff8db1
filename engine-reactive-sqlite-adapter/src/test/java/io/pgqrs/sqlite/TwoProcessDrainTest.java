package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Two JVM processes drain one SQLite file together: every message archived exactly once. */
class TwoProcessDrainTest {

  private static final Duration T = Duration.ofSeconds(30);

  /**
   * The child process: drains the queue of the file given as first argument, printing each id.
   *
   * @param args the database file
   */
  public static void main(String[] args) {
    Store store = Pgqrs.connect("sqlite:" + args[0]).block(T);
    Drain.drain(store, "shared", 20).doOnNext(System.out::println).blockLast(Duration.ofMinutes(2));
    store.close().block(T);
  }

  @Test
  void twoProcessesShareOneFile() throws IOException, InterruptedException {
    Path file = SqliteStores.newFile();
    Store store = SqliteStores.file(file);
    try {
      store.admin().install().block(T);
      store.queues().create("shared").block(T);
      for (int i = 0; i < 3; i++) {
        store.producer("shared").build()
            .enqueuePayloads(IntStream.range(0, 1000).mapToObj(n -> Map.of("n", n)).toList()).block(T);
      }
      Path childOut = Files.createTempFile("pgqrs-child", ".txt");
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), TwoProcessDrainTest.class.getName(), file.toString())
          .redirectOutput(childOut.toFile())
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      List<Long> mine = Drain.drain(store, "shared", 20).collectList().block(Duration.ofMinutes(2));
      assertThat(child.waitFor(2, TimeUnit.MINUTES)).as("child finished").isTrue();
      assertThat(child.exitValue()).isZero();
      List<Long> all = new ArrayList<>(mine);
      Files.readAllLines(childOut).stream().filter(l -> !l.isBlank()).map(Long::parseLong).forEach(all::add);
      assertThat(all).hasSize(3000).doesNotHaveDuplicates();
      assertThat(store.queues().metrics("shared").block(T).archived()).isEqualTo(3000);
    } finally {
      store.close().block(T);
    }
  }
}
