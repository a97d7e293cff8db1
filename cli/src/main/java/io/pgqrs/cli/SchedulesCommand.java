package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.schedule.ScheduleInfo;
import io.pgqrs.schedule.ScheduleTarget;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code schedules list | get | pause | resume | delete}: the store's cron schedules. */
@Command(name = "schedules", description = "Lists cron schedules, pauses, resumes and deletes them.",
    subcommands = {
        SchedulesCommand.ListSchedules.class,
        SchedulesCommand.Get.class,
        SchedulesCommand.Pause.class,
        SchedulesCommand.Resume.class,
        SchedulesCommand.Delete.class
    })
final class SchedulesCommand {

  /** What a schedule fires, as one cell: {@code workflow W} or {@code queue Q}. */
  static String target(ScheduleInfo s) {
    return s.target() instanceof ScheduleTarget.Workflow w ? "workflow " + w.queue()
        : "queue " + ((ScheduleTarget.Queue) s.target()).queue();
  }

  static Table scheduleTable(List<ScheduleInfo> schedules) {
    Table table = Table.of("NAME", "CRON", "ZONE", "TARGET", "PAUSED", "NEXT_FIRE_AT", "LAST_FIRED_AT");
    for (ScheduleInfo s : schedules) {
      table.row(s.name(), s.cron(), s.zone(), target(s), s.paused(), s.nextFireAt(), s.lastFiredAt());
    }
    return table;
  }

  static int printChanged(Output out, ScheduleInfo s) {
    out.print(s, () -> "schedule " + s.name() + " is " + (s.paused() ? "paused" : "active, next tick "
        + s.nextFireAt()) + System.lineSeparator());
    return ExitCodes.OK;
  }

  @Command(name = "list", description = "Lists every schedule by name.")
  static final class ListSchedules extends StoreCommand {
    @Override
    int run(Store store, Output out) {
      List<ScheduleInfo> schedules = awaitAll(store.schedules().list());
      out.print(schedules, () -> scheduleTable(schedules).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "get", description = "Shows one schedule. Exit 3 if there is none of that name.")
  static final class Get extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The schedule's name.")
    String name;

    @Override
    int run(Store store, Output out) {
      ScheduleInfo s = await(store.schedules().get(name), "get schedule");
      out.print(s, () -> scheduleTable(List.of(s)).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "pause", description = "Pauses a schedule: it fires nothing until resumed. Idempotent.")
  static final class Pause extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The schedule's name.")
    String name;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.schedules().pause(name), "pause schedule"));
    }
  }

  @Command(name = "resume", description = {
      "Resumes a paused schedule from its first tick after now: the ticks missed while paused never fire."})
  static final class Resume extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The schedule's name.")
    String name;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.schedules().resume(name), "resume schedule"));
    }
  }

  @Command(name = "delete", description = "Deletes a schedule; what it fired is left alone.")
  static final class Delete extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The schedule's name.")
    String name;

    @Override
    int run(Store store, Output out) {
      store.schedules().delete(name).block();
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("schedule", name);
      document.put("deleted", true);
      out.print(document, () -> "deleted schedule " + name + System.lineSeparator());
      return ExitCodes.OK;
    }
  }
}
