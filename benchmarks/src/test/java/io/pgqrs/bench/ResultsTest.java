package io.pgqrs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The results file of each run: its own file and run id, even for runs started in one second. */
class ResultsTest {

  @TempDir Path dir;

  @Test
  void runsStartedTogetherGetDistinctFilesAndIdsThatSortByStart() throws Exception {
    String[] ids = new String[3];
    // Three at once: all within one second, so the later ones take suffixed ids.
    try (Results first = new Results(dir, "drain", "postgres", Json.object());
        Results second = new Results(dir, "drain", "postgres", Json.object());
        Results third = new Results(dir, "drain", "postgres", Json.object())) {
      List<Results> inStartOrder = List.of(first, second, third);
      for (int i = 0; i < inStartOrder.size(); i++) {
        inStartOrder.get(i).emit(inStartOrder.get(i).cell("run" + i));
      }
    }
    try (var files = Files.list(dir)) {
      List<Path> sorted = files.sorted().toList();
      assertThat(sorted).hasSize(3);
      for (Path f : sorted) {
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        assertThat(lines).as("lines of %s", f).hasSize(1);
        JsonNode cell = Json.MAPPER.readTree(lines.get(0));
        ids[Integer.parseInt(cell.path("subject").asText().substring(3))] = cell.path("run_id").asText();
      }
    }
    // The report keeps the greatest run id (natural string order) as the latest run.
    assertThat(ids).doesNotHaveDuplicates().isSorted();
  }
}
