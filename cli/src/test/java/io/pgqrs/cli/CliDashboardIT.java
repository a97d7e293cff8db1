package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgqrs dashboard}, run from the runnable jar on a SQLite file. */
class CliDashboardIT {

  @TempDir
  Path directory;

  @Test
  void theDashboardIsServedUntilTheProcessIsStoppedAndRefusesAnOpenAddressWithoutAToken() throws Exception {
    String dsn = "sqlite:" + directory.resolve("pgqrs.db");
    CliProcess.withDsn(dsn, "install").exits(ExitCodes.OK);
    CliProcess.withDsn(dsn, "queues", "create", "cli_dash").exits(ExitCodes.OK);
    assertThat(CliProcess.withDsn(dsn, "dashboard", "--bind", "0.0.0.0").exits(ExitCodes.USAGE).err())
        .contains("requires an access token");

    List<String> command = List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", CliProcess.jar().toString(), "--dsn", dsn, "dashboard", "--port", "0", "--read-only");
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line = out.readLine();
      assertThat(line).as("the first line of %s", command).isNotNull().contains("(read-only)");
      Matcher url = Pattern.compile("http://\\S+/pgqrs").matcher(line);
      assertThat(url.find()).as(line).isTrue();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(url.group()))
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("Overview").contains("cli_dash").doesNotContain("method=\"post\"");
    } finally {
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the dashboard stops on SIGTERM").isTrue();
    }
  }
}
