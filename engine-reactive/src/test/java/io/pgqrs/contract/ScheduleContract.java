package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.admin.SchedulerReport;
import io.pgqrs.internal.EngineProbe;
import io.pgqrs.internal.FaultyStore;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.schedule.MissedTicks;
import io.pgqrs.schedule.NewSchedule;
import io.pgqrs.schedule.ScheduleAlreadyExistsException;
import io.pgqrs.schedule.ScheduleInfo;
import io.pgqrs.schedule.ScheduleNotFoundException;
import io.pgqrs.schedule.ScheduleTarget;
import io.pgqrs.schedule.ScheduleTick;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The schedules contract: the {@code store.schedules()} facet, typed errors, and the scheduler's
 * firing by a clock the test moves (the SPI's {@code now}), one run or message per tick however
 * many firers race for it. Background maintenance is off: each test fires the schedules itself.
 */
public abstract class ScheduleContract extends StoreContract {

  private static final AtomicInteger NAMES = new AtomicInteger();

  private final List<Store> others = new ArrayList<>();

  /**
   * The DSN of the database under test, shared by every store a test opens.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  /** How many stores share the database in the racing tests; backends with one connection lower it. */
  protected int stores() {
    return 3;
  }

  @Override
  protected Store openStore() {
    return connect();
  }

  private Store connect() {
    return Pgqrs.connect(PgqrsConfig.builder(dsn()).maintenanceInterval(Duration.ZERO).build()).block(T);
  }

  /** The stores of a racing test: this class's store and {@code stores() - 1} more. */
  private List<Store> racers() {
    List<Store> racers = new ArrayList<>(List.of(store));
    while (others.size() < stores() - 1) {
      others.add(connect());
    }
    racers.addAll(others.subList(0, stores() - 1));
    return racers;
  }

  /** Each test fires every due schedule of the schema: none of an earlier test's may be left. */
  @BeforeEach
  void deleteEarlierSchedules() {
    store.schedules().list().concatMap(s -> store.schedules().delete(s.name())).then().block(T);
  }

  @AfterAll
  void closeOthers() {
    for (Store other : others) {
      other.close().block(T);
    }
  }

  private static String newName(String prefix) {
    return prefix + NAMES.incrementAndGet();
  }

  private static JsonNode input(int n) {
    return JsonNodeFactory.instance.objectNode().put("n", n);
  }

  private Workflow<JsonNode, JsonNode> registerWorkflow() {
    WorkflowDefinition<JsonNode, JsonNode> definition = Workflows.define(newName("wf_sched"), JsonNode.class,
        JsonNode.class, (ctx, in) -> Mono.just(in));
    return store.runs().register(definition).block(T);
  }

  private List<RunInfo> runsOf(String workflow) {
    return store.runs().list(RunQuery.all().withWorkflow(workflow).withLimit(1000)).collectList().block(T).stream()
        .sorted(Comparator.comparingLong(RunInfo::id)).toList();
  }

  private List<Message> liveMessages(String queue) {
    return driver().listMessages(new StoreParams.ListMessages(queue, MessageState.LIVE, 0, 1000)).collectList()
        .block(T);
  }

  private SchedulerReport fire(Store on, Instant now) {
    return EngineProbe.fireSchedules(on, now).block(T);
  }

  private List<Instant> scheduledTimes(List<RunInfo> runs) {
    return runs.stream().map(r -> ScheduleTick.of(r).orElseThrow().scheduledAt()).toList();
  }

  // ---------------------------------------------------------------- the facet

  @Test
  void createListGetPauseResumeAndDelete() {
    String q = newQueue();
    String name = newName("s_facet");
    NewSchedule spec = NewSchedule.queue(name, "*/5 * * * *", q, input(1)).withZone("Europe/Paris")
        .withMissedTicks(MissedTicks.catchUp(4));
    ScheduleInfo created = store.schedules().create(spec).block(T);
    assertThat(created.name()).isEqualTo(name);
    assertThat(created.cron()).isEqualTo("*/5 * * * *");
    assertThat(created.zone()).isEqualTo(ZoneId.of("Europe/Paris"));
    assertThat(created.target()).isEqualTo(new ScheduleTarget.Queue(q, input(1)));
    assertThat(created.missedTicks()).isEqualTo(MissedTicks.catchUp(4));
    assertThat(created.paused()).isFalse();
    assertThat(created.lastFiredAt()).isNull();
    assertThat(created.nextFireAt()).isAfter(created.createdAt());
    assertThat(created.nextFireAt().getEpochSecond() % 300).isZero();

    assertThat(store.schedules().get(name).block(T)).isEqualTo(created);
    assertThat(store.schedules().list().collectList().block(T)).contains(created);

    ScheduleInfo paused = store.schedules().pause(name).block(T);
    assertThat(paused.paused()).isTrue();
    assertThat(store.schedules().pause(name).block(T).paused()).isTrue();
    ScheduleInfo resumed = store.schedules().resume(name).block(T);
    assertThat(resumed.paused()).isFalse();
    assertThat(resumed.nextFireAt()).isAfterOrEqualTo(created.nextFireAt());
    assertThat(store.schedules().resume(name).block(T)).isEqualTo(resumed);

    StepVerifier.create(store.schedules().delete(name)).verifyComplete();
    StepVerifier.create(store.schedules().get(name)).expectError(ScheduleNotFoundException.class).verify(T);
    assertThat(store.schedules().list().map(ScheduleInfo::name).collectList().block(T)).doesNotContain(name);
  }

  @Test
  void badCronZoneAndNameAreTypedErrorsNamingTheField() {
    String q = "any_queue";
    assertThatThrownBy(() -> NewSchedule.queue("s_bad", "61 * * * *", q, input(1)))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("cron"));
    assertThatThrownBy(() -> NewSchedule.queue("s_bad", "* * *", q, input(1)))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("cron"));
    assertThatThrownBy(() -> NewSchedule.queue("s_bad", "0 0 30 2 *", q, input(1)))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("cron"));
    assertThatThrownBy(() -> NewSchedule.queue("s_bad", "* * * * *", q, input(1)).withZone("Mars/Olympus"))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("zone"));
    assertThatThrownBy(() -> NewSchedule.queue("1 bad", "* * * * *", q, input(1)))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("name"));
    assertThatThrownBy(() -> MissedTicks.catchUp(0))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("maxTicks"));
    assertThatThrownBy(() -> Workflows.define("wf_bad_cron", JsonNode.class, JsonNode.class, (ctx, in) -> Mono.just(in))
            .withSchedule("not cron", input(1)))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> assertThat(e.argument()).isEqualTo("cron"));
    // Six fields read seconds first.
    assertThat(NewSchedule.queue("s_seconds", "*/10 * * * * *", q, input(1)).cron()).isEqualTo("*/10 * * * * *");
  }

  @Test
  void aTakenNameIsRefused() {
    String q = newQueue();
    String name = newName("s_dup");
    store.schedules().create(NewSchedule.queue(name, "* * * * *", q, input(1))).block(T);
    StepVerifier.create(store.schedules().create(NewSchedule.queue(name, "*/2 * * * *", q, input(2))))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(ScheduleAlreadyExistsException.class,
            x -> assertThat(x.schedule()).isEqualTo(name)))
        .verify(T);
    assertThat(store.schedules().get(name).block(T).cron()).isEqualTo("* * * * *");
  }

  @Test
  void anUnknownNameIsNotFound() {
    String name = newName("s_missing");
    for (Mono<?> op : List.of(store.schedules().get(name), store.schedules().pause(name),
        store.schedules().resume(name), store.schedules().delete(name))) {
      StepVerifier.create(op)
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(ScheduleNotFoundException.class,
              x -> assertThat(x.schedule()).isEqualTo(name)))
          .verify(T);
    }
  }

  // ---------------------------------------------------------------- firing

  @Test
  void aTickFiresExactlyOneRunWithTheInputAndItsTimes() {
    Workflow<JsonNode, JsonNode> workflow = registerWorkflow();
    String name = newName("s_run");
    ScheduleInfo schedule = store.schedules()
        .create(NewSchedule.workflow(name, "* * * * *", workflow.definition(), input(7))).block(T);
    Instant tick = schedule.nextFireAt();

    assertThat(fire(store, tick.minusSeconds(1)).ticksFired()).as("before the tick").isZero();
    assertThat(runsOf(workflow.definition().name())).isEmpty();

    Instant firedAt = tick.plusSeconds(1);
    SchedulerReport report = fire(store, firedAt);
    assertThat(report.schedulesFired()).isEqualTo(1);
    assertThat(report.ticksFired()).isEqualTo(1);
    assertThat(fire(store, tick.plusSeconds(2)).ticksFired()).as("the same tick again").isZero();

    List<RunInfo> runs = runsOf(workflow.definition().name());
    assertThat(runs).hasSize(1);
    RunInfo run = runs.get(0);
    assertThat(run.input()).isEqualTo(input(7));
    assertThat(ScheduleTick.of(run)).contains(new ScheduleTick(name, tick, firedAt));
    assertThat(run.idempotencyKey()).isEqualTo("schedule:" + name + ":" + tick.getEpochSecond());

    ScheduleInfo after = store.schedules().get(name).block(T);
    assertThat(after.lastFiredAt()).isEqualTo(tick);
    assertThat(after.nextFireAt()).isEqualTo(tick.plusSeconds(60));
  }

  @Test
  void aQueueScheduleEnqueuesOneMessagePerTickWithThePayload() {
    String q = newQueue();
    String name = newName("s_msg");
    ScheduleInfo schedule = store.schedules().create(NewSchedule.queue(name, "*/30 * * * * *", q, input(3)))
        .block(T);
    Instant tick = schedule.nextFireAt();
    assertThat(fire(store, tick).ticksFired()).isEqualTo(1);
    assertThat(fire(store, tick.plusSeconds(30)).ticksFired()).isEqualTo(1);

    List<Message> messages = liveMessages(q);
    assertThat(messages).hasSize(2);
    assertThat(messages).allSatisfy(m -> assertThat(m.payload()).isEqualTo(input(3)));
    assertThat(messages.stream().map(m -> ScheduleTick.of(m).orElseThrow()).toList())
        .containsExactly(new ScheduleTick(name, tick, tick), new ScheduleTick(name, tick.plusSeconds(30),
            tick.plusSeconds(30)));
  }

  @Test
  void enginesRacingForTheSameTicksFireEachOnce() {
    Workflow<JsonNode, JsonNode> workflow = registerWorkflow();
    String name = newName("s_race");
    ScheduleInfo schedule = store.schedules()
        .create(NewSchedule.workflow(name, "* * * * *", workflow.definition(), input(1))).block(T);
    List<Store> racers = racers();
    int firersPerStore = 3;
    for (int round = 0; round < 5; round++) {
      Instant now = schedule.nextFireAt().plusSeconds(60L * round + 1);
      List<SchedulerReport> reports = Flux.fromIterable(racers)
          .flatMap(racer -> Flux.range(0, firersPerStore)
              .flatMap(i -> EngineProbe.fireSchedules(racer, now).subscribeOn(Schedulers.boundedElastic())))
          .collectList()
          .block(T);
      assertThat(reports).hasSize(racers.size() * firersPerStore);
      assertThat(reports.stream().mapToLong(SchedulerReport::ticksFired).sum()).as("round " + round).isEqualTo(1);
    }
    List<RunInfo> runs = runsOf(workflow.definition().name());
    assertThat(scheduledTimes(runs)).containsExactly(
        schedule.nextFireAt(), schedule.nextFireAt().plusSeconds(60), schedule.nextFireAt().plusSeconds(120),
        schedule.nextFireAt().plusSeconds(180), schedule.nextFireAt().plusSeconds(240));
  }

  /**
   * What a tick costs the store: one transaction per due schedule (moving it on and creating the
   * run or message), plus one read of the due schedules for the whole turn.
   */
  @Test
  void aTickCostsOneStoreCallPerScheduleBesidesOneReadOfTheDueSchedules() {
    Workflow<JsonNode, JsonNode> workflow = registerWorkflow();
    String q = newQueue();
    ScheduleInfo runs = store.schedules()
        .create(NewSchedule.workflow(newName("s_cost"), "* * * * *", workflow.definition(), input(1))).block(T);
    ScheduleInfo messages = store.schedules().create(NewSchedule.queue(newName("s_cost"), "* * * * *", q, input(2)))
        .block(T);
    assertThat(messages.nextFireAt()).isEqualTo(runs.nextFireAt());
    try (FaultyStore faulty = FaultyStore.over(store)) {
      Map<String, Integer> before = faulty.callsByMethod();
      SchedulerReport report = fire(faulty.store(), runs.nextFireAt().plusSeconds(1));
      assertThat(report.ticksFired()).isEqualTo(2);
      Map<String, Integer> during = new TreeMap<>(faulty.callsByMethod());
      before.forEach((method, n) -> during.merge(method, -n, Integer::sum));
      during.values().removeIf(n -> n == 0);
      assertThat(during).containsExactlyInAnyOrderEntriesOf(Map.of("dueSchedules", 1, "fireSchedule", 2));
    }
    assertThat(runsOf(workflow.definition().name())).hasSize(1);
    assertThat(liveMessages(q)).hasSize(1);
  }

  @Test
  void skipFiresOnlyTheNewestMissedTick() {
    Workflow<JsonNode, JsonNode> workflow = registerWorkflow();
    String name = newName("s_skip");
    ScheduleInfo schedule = store.schedules()
        .create(NewSchedule.workflow(name, "* * * * *", workflow.definition(), input(1))).block(T);
    Instant first = schedule.nextFireAt();
    // Every engine was down for ten minutes: eleven ticks are due.
    SchedulerReport report = fire(store, first.plusSeconds(600).plusMillis(500));
    assertThat(report.ticksFired()).isEqualTo(1);
    assertThat(scheduledTimes(runsOf(workflow.definition().name()))).containsExactly(first.plusSeconds(600));
    ScheduleInfo after = store.schedules().get(name).block(T);
    assertThat(after.nextFireAt()).isEqualTo(first.plusSeconds(660));
    assertThat(after.lastFiredAt()).isEqualTo(first.plusSeconds(600));
  }

  @Test
  void catchUpFiresTheNewestMissedTicksUpToItsBoundOldestFirst() {
    Workflow<JsonNode, JsonNode> workflow = registerWorkflow();
    String name = newName("s_catchup");
    ScheduleInfo schedule = store.schedules()
        .create(NewSchedule.workflow(name, "* * * * *", workflow.definition(), input(1))
            .withMissedTicks(MissedTicks.catchUp(3)))
        .block(T);
    Instant first = schedule.nextFireAt();
    assertThat(fire(store, first.plusSeconds(600)).ticksFired()).isEqualTo(3);
    assertThat(scheduledTimes(runsOf(workflow.definition().name())))
        .containsExactly(first.plusSeconds(480), first.plusSeconds(540), first.plusSeconds(600));
    // Two ticks missed, within the bound: both fire.
    assertThat(fire(store, first.plusSeconds(720)).ticksFired()).isEqualTo(2);
    assertThat(scheduledTimes(runsOf(workflow.definition().name()))).containsExactly(first.plusSeconds(480),
        first.plusSeconds(540), first.plusSeconds(600), first.plusSeconds(660), first.plusSeconds(720));
    assertThat(store.schedules().get(name).block(T).nextFireAt()).isEqualTo(first.plusSeconds(780));
  }

  @Test
  void aPausedScheduleDoesNotFireAndResumesFromTheNextTickAfterTheClock() {
    String q = newQueue();
    String name = newName("s_pause");
    ScheduleInfo schedule = store.schedules().create(NewSchedule.queue(name, "* * * * *", q, input(1))
        .withMissedTicks(MissedTicks.catchUp(100))).block(T);
    Instant first = schedule.nextFireAt();
    store.schedules().pause(name).block(T);
    assertThat(fire(store, first.plusSeconds(300)).ticksFired()).isZero();
    assertThat(liveMessages(q)).isEmpty();

    ScheduleInfo resumed = EngineProbe.resumeSchedule(store, name, first.plusSeconds(301)).block(T);
    assertThat(resumed.paused()).isFalse();
    assertThat(resumed.nextFireAt()).isEqualTo(first.plusSeconds(360));
    // The ticks passed while paused never fire, whatever the catch-up bound.
    assertThat(fire(store, first.plusSeconds(330)).ticksFired()).isZero();
    assertThat(fire(store, first.plusSeconds(361)).ticksFired()).isEqualTo(1);
    assertThat(liveMessages(q).stream().map(m -> ScheduleTick.of(m).orElseThrow().scheduledAt()).toList())
        .containsExactly(first.plusSeconds(360));
  }

  @Test
  void aScheduleWhoseWorkflowIsNotRegisteredStaysDue() {
    String name = newName("s_nowf");
    ScheduleInfo schedule = store.schedules()
        .create(NewSchedule.workflow(name, "* * * * *", newName("wf_absent"), input(1))).block(T);
    assertThat(fire(store, schedule.nextFireAt()).ticksFired()).isZero();
    ScheduleInfo after = store.schedules().get(name).block(T);
    assertThat(after.nextFireAt()).isEqualTo(schedule.nextFireAt());
    assertThat(after.lastFiredAt()).isNull();
    store.schedules().delete(name).block(T);
  }

  @Test
  void aDeclaredScheduleRegisteredByEveryEngineIsOneSchedule() {
    String workflowName = newName("wf_declared");
    WorkflowDefinition<JsonNode, JsonNode> definition = Workflows.define(workflowName, JsonNode.class,
        JsonNode.class, (ctx, in) -> Mono.just(in)).withSchedule("*/15 * * * *", ZoneId.of("Asia/Tokyo"), input(5));
    List<Store> racers = racers();
    Flux.fromIterable(racers)
        .flatMap(racer -> Flux.range(0, 2)
            .flatMap(i -> racer.runs().register(definition).subscribeOn(Schedulers.boundedElastic())))
        .then()
        .block(T);
    List<ScheduleInfo> declared = store.schedules().list().filter(s -> s.name().equals(workflowName)).collectList()
        .block(T);
    assertThat(declared).hasSize(1);
    ScheduleInfo schedule = declared.get(0);
    assertThat(schedule.cron()).isEqualTo("*/15 * * * *");
    assertThat(schedule.zone()).isEqualTo(ZoneId.of("Asia/Tokyo"));
    assertThat(schedule.target()).isEqualTo(new ScheduleTarget.Workflow(workflowName, null, input(5), null));

    // Registering it again changes nothing; a changed cron is taken, its next tick recomputed.
    store.runs().register(definition).block(T);
    assertThat(store.schedules().get(workflowName).block(T)).isEqualTo(schedule);
    store.runs().register(definition.withSchedule("0 * * * *", ZoneId.of("Asia/Tokyo"), input(6))).block(T);
    ScheduleInfo changed = store.schedules().get(workflowName).block(T);
    assertThat(changed.cron()).isEqualTo("0 * * * *");
    assertThat(changed.target()).isEqualTo(new ScheduleTarget.Workflow(workflowName, null, input(6), null));
    assertThat(changed.nextFireAt().getEpochSecond() % 3600).isZero();

    assertThat(fire(store, changed.nextFireAt()).ticksFired()).isEqualTo(1);
    assertThat(runsOf(workflowName)).singleElement().satisfies(run -> assertThat(run.input()).isEqualTo(input(6)));
  }

  @Test
  void theBackgroundSchedulerOfAConnectedStoreFiresDueTicks() {
    String q = newQueue();
    String name = newName("s_background");
    store.schedules().create(NewSchedule.queue(name, "* * * * * *", q, input(9))).block(T);
    Store background = Pgqrs.connect(PgqrsConfig.builder(dsn()).maintenanceInterval(Duration.ofMillis(500)).build())
        .block(T);
    try {
      // Waits on state: the first message the background scheduler enqueues.
      Message first = Flux.interval(Duration.ZERO, Duration.ofMillis(50))
          .onBackpressureDrop()
          .concatMap(i -> driver().listMessages(new StoreParams.ListMessages(q, MessageState.LIVE, 0, 10)).next())
          .blockFirst(T);
      assertThat(first.payload()).isEqualTo(input(9));
      assertThat(ScheduleTick.of(first)).hasValueSatisfying(tick -> assertThat(tick.schedule()).isEqualTo(name));
    } finally {
      background.close().block(T);
    }
  }
}
