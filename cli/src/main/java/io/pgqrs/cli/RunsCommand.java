package io.pgqrs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.Store;
import io.pgqrs.workflow.EventInfo;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code runs list | show | cancel | pause | resume | signal | events | restart | fork}: inspecting and controlling workflow
 * runs. None needs the workflow's code: runs are read and changed in the store, and the workers
 * that execute them see the change at their next step boundary.
 */
@Command(name = "runs", description = "Lists, shows and controls workflow runs.",
    subcommands = {
        RunsCommand.ListRuns.class,
        RunsCommand.Show.class,
        RunsCommand.Cancel.class,
        RunsCommand.Pause.class,
        RunsCommand.Resume.class,
        RunsCommand.Signal.class,
        RunsCommand.Events.class,
        RunsCommand.Restart.class,
        RunsCommand.Fork.class
    })
final class RunsCommand {

  static Table runTable(List<RunInfo> runs) {
    Table table = Table.of("ID", "WORKFLOW", "STATUS", "ATTEMPTS", "CREATED_AT", "STARTED_AT", "FINISHED_AT", "ERROR");
    for (RunInfo r : runs) {
      table.row(r.id(), r.workflow(), r.status(), r.attempts(), r.createdAt(), r.startedAt(), r.finishedAt(),
          Text.abbreviate(r.error()));
    }
    return table;
  }

  static Fields runFields(RunInfo r) {
    return new Fields()
        .add("id", r.id())
        .add("workflow", r.workflow())
        .add("version", r.version())
        .add("status", r.status())
        .add("attempts", r.attempts())
        .add("failures", r.failures())
        .add("idempotency_key", r.idempotencyKey())
        .add("parent", r.parentRunId())
        .add("forked_from", r.forkedFrom())
        .add("created_at", r.createdAt())
        .add("started_at", r.startedAt())
        .add("finished_at", r.finishedAt())
        .add("deadline", r.deadline())
        .add("error", r.error())
        .add("input", r.input())
        .add("output", r.output());
  }

  /** A run after a change, as {@code cancel}, {@code pause} and {@code resume} print it. */
  static int printChanged(Output out, RunInfo run) {
    out.print(run, () -> "run " + run.id() + " (" + run.workflow() + ") is " + run.status() + System.lineSeparator());
    return ExitCodes.OK;
  }

  @Command(name = "list", description = {
      "Lists workflow runs, newest first. Page on with --before and the last id shown."})
  static final class ListRuns extends StoreCommand {
    @Option(names = "--workflow", paramLabel = "NAME", description = "Only runs of this workflow.")
    @Nullable String workflow;

    @Option(names = "--status", paramLabel = "STATUS",
        description = "Only runs in this status: ${COMPLETION-CANDIDATES}.")
    @Nullable RunStatus status;

    @Option(names = "--since", paramLabel = "TIME", converter = Converters.SinceConverter.class,
        description = "Only runs triggered at or after this time: ISO-8601 (2025-01-31T12:00:00Z), a date"
            + " (2025-01-31, UTC) or a duration before now (30m, 2h, 7d).")
    @Nullable Instant since;

    @Option(names = "--before", paramLabel = "ID", description = "Only runs with a smaller id.")
    @Nullable Long before;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
        description = "The most runs to list, 1 to 10000 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--parent", paramLabel = "ID", description = "Only the child runs of this run.")
    @Nullable Long parent;

    @Override
    int run(Store store, Output out) {
      RunQuery base = parent == null ? RunQuery.all() : RunQuery.all().parent(parent);
      RunQuery query = base
          .withWorkflow(workflow)
          .withStatus(status)
          .withCreatedBetween(since, null)
          .withBeforeId(before)
          .withLimit(limit);
      List<RunInfo> runs = awaitAll(store.runs().list(query));
      out.print(runs, () -> runTable(runs).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "show", description = "Shows one run, its input and output, and its steps in the order begun.")
  static final class Show extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Override
    int run(Store store, Output out) {
      RunInfo run = await(store.runs().get(id), "get run");
      List<StepInfo> steps = awaitAll(store.runs().steps(id));
      // The first page of children only: a fan-out's thousands are listed with runs list --parent.
      List<RunInfo> children = awaitAll(store.runs().list(RunQuery.all().parent(id)));
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("run", run);
      document.put("steps", steps);
      document.put("children", children);
      out.print(document, () -> {
        Table table = Table.of("STEP", "POSITION", "STATUS", "ATTEMPTS", "STARTED_AT", "FINISHED_AT", "WAKE_AT",
            "ERROR", "OUTPUT");
        for (StepInfo s : steps) {
          table.row(s.stepId(), s.position(), s.status(), s.attempts(), s.startedAt(), s.finishedAt(), s.wakeAt(),
              Text.abbreviate(s.error()), Text.abbreviate(s.output()));
        }
        return runFields(run).render() + System.lineSeparator()
            + (steps.isEmpty() ? "no steps recorded" + System.lineSeparator() : table.render())
            + (children.isEmpty() ? "" : System.lineSeparator() + "children:" + System.lineSeparator()
                + runTable(children).render());
      });
      return ExitCodes.OK;
    }
  }

  @Command(name = "cancel", description = {
      "Cancels a run with a reason, recorded as its error.",
      "A run no worker holds is CANCELLED at once; a held one is CANCELLING until its next step boundary."
          + " Refused (exit 4) for a run that finished."})
  static final class Cancel extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "Why; recorded as the run's error.")
    String reason;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.runs().cancel(id, reason), "cancel run"));
    }
  }

  @Command(name = "restart", description = {
      "Starts a failed or cancelled run again from where it stopped, under the same id: its successful",
      "steps replay from their records, the failed or unfinished ones execute again on a worker of its workflow.",
      "Refused (exit 4) for a run that is not ERROR or CANCELLED."})
  static final class Restart extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.runs().restart(id), "restart run"));
    }
  }

  @Command(name = "fork", description = {
      "Creates a new run of a finished run's workflow and input that re-executes from a step: the steps",
      "completed before it are copied and replay, the others execute. The original run is unchanged.",
      "Refused (exit 4) for a run that has not finished; exit 2 for a step the run does not have."})
  static final class Fork extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Option(names = "--from-step", paramLabel = "STEP", required = true,
        description = "The first step to execute again, as 'runs show' lists it (name, or name#2).")
    String fromStep;

    @Override
    int run(Store store, Output out) {
      RunInfo fork = await(store.runs().fork(id, fromStep), "fork run");
      out.print(fork, () -> "run " + fork.id() + " (" + fork.workflow() + ") forked from run " + id + " at step '"
          + fromStep + "' is " + fork.status() + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "pause", description = {
      "Pauses a run: it goes no further than its next step boundary until resumed.",
      "Refused (exit 4) for a run that finished."})
  static final class Pause extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.runs().pause(id), "pause run"));
    }
  }

  @Command(name = "resume", description = "Resumes a paused run. Refused (exit 4) for a run that is not paused.")
  static final class Resume extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.runs().resume(id), "resume run"));
    }
  }

  @Command(name = "signal", description = {
      "Sends a signal to a run: a run waiting for it wakes, and one that waits for it later finds it.",
      "Refused (exit 4) for a run that finished."})
  static final class Signal extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Parameters(index = "1", paramLabel = "NAME", description = "The signal's name.")
    String name;

    @Parameters(index = "2", paramLabel = "JSON", converter = Converters.JsonConverter.class,
        description = "The value, as JSON: true, 42, '\"text\"', '{\"approved\": true}'.")
    JsonNode value;

    @Override
    int run(Store store, Output out) {
      RunInfo run = await(store.runs().get(id), "get run");
      store.runs().signal(id, name, value).block();
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("run", id);
      document.put("workflow", run.workflow());
      document.put("signal", name);
      document.put("sent", true);
      out.print(document, () -> "sent signal '" + name + "' to run " + id + " (" + run.workflow() + ")"
          + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "events", description = {
      "Lists the values a run has set with setEvent so far, oldest first: of one key, or of every key."})
  static final class Events extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The run id.")
    long id;

    @Parameters(index = "1", paramLabel = "KEY", arity = "0..1", description = "Only the values of this key.")
    @Nullable String key;

    @Override
    int run(Store store, Output out) {
      List<EventInfo> events = awaitAll(store.runs().eventHistory(id)
          .filter(e -> key == null || e.key().equals(key)));
      out.print(events, () -> {
        if (events.isEmpty()) {
          return "no events" + (key == null ? "" : " of key '" + key + "'") + " set by run " + id
              + System.lineSeparator();
        }
        Table table = Table.of("SEQ", "KEY", "CREATED_AT", "VALUE");
        for (EventInfo e : events) {
          table.row(e.seq(), e.key(), e.createdAt(), Text.abbreviate(e.value()));
        }
        return table.render();
      });
      return ExitCodes.OK;
    }
  }
}
