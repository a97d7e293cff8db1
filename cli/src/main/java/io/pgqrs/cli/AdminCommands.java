package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.admin.SchemaReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code install}, {@code verify} and {@code uninstall}: the schema of the store. */
final class AdminCommands {

  private AdminCommands() {}

  /** The schema report with where it was read, the DSN masked. */
  static Map<String, Object> report(Store store, PgqrsCli cli, SchemaReport report) {
    Map<String, Object> document = new LinkedHashMap<>();
    String dsn = cli.rawDsn();
    document.put("dsn", dsn == null ? null : Secrets.maskedDsn(dsn));
    document.put("backend", store.capabilities().backend());
    document.put("schema", report.schema());
    document.put("installedVersion", report.installedVersion());
    document.put("expectedVersion", report.expectedVersion());
    document.put("missing", report.missing());
    document.put("valid", report.isValid());
    return document;
  }

  static String render(Map<String, Object> report) {
    Fields fields = new Fields();
    report.forEach((name, value) -> fields.add(snakeCase(name),
        value instanceof List<?> list ? (list.isEmpty() ? "none" : String.join(", ", list.stream()
            .map(String::valueOf).toList())) : value));
    return fields.render();
  }

  /** {@code installedVersion} as {@code installed_version}, as the other commands name their fields. */
  private static String snakeCase(String name) {
    return name.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  @Command(name = "install", description = {
      "Creates the schema if needed and applies every missing migration, in one transaction.",
      "Idempotent: safe to run again, and from several processes at once."})
  static final class Install extends StoreCommand {
    @Override
    int run(Store store, Output out) {
      store.admin().install().block();
      SchemaReport report = await(store.admin().verify(), "verify");
      out.print(report(store, cli(), report), () -> "installed schema '" + report.schema() + "' at version "
          + report.installedVersion() + " (" + store.capabilities().backend() + ")" + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "verify", description = {
      "Reports the installed schema version and any missing table or index; changes nothing.",
      "Exits with 1 when the schema is missing, incomplete or older than this tool."})
  static final class Verify extends StoreCommand {
    @Override
    int run(Store store, Output out) {
      SchemaReport report = await(store.admin().verify(), "verify");
      Map<String, Object> document = report(store, cli(), report);
      out.print(document, () -> render(document));
      if (!report.isValid()) {
        throw new CommandFailure(ExitCodes.FAILED, "schema '" + report.schema() + "' is "
            + (report.installedVersion() == 0 ? "not installed" : "at version " + report.installedVersion()
                + " of " + report.expectedVersion() + " with " + report.missing().size() + " objects missing")
            + ": run 'pgqrs install'");
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "uninstall", description = {
      "Removes the schema's pgqrs tables, indexes and functions with all their data (asks for --yes).",
      "Every queue, message, workflow run and worker of the store is deleted."})
  static final class Uninstall extends StoreCommand {
    @Option(names = "--yes", description = "Confirm: delete the schema's pgqrs objects and all their data.")
    boolean yes;

    @Override
    void checkArguments() {
      if (!yes) {
        throw new CommandFailure(ExitCodes.USAGE,
            "uninstall deletes every queue, message, workflow run and worker of the store: add --yes to do it");
      }
    }

    @Override
    int run(Store store, Output out) {
      String schema = store.config().schema();
      store.admin().uninstall().block();
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("schema", schema);
      document.put("uninstalled", true);
      out.print(document, () -> "uninstalled schema '" + schema + "'" + System.lineSeparator());
      return ExitCodes.OK;
    }
  }
}
