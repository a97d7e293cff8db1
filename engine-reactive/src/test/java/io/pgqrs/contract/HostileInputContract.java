package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.queue.ValidationRules;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.pgqrs.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Hostile input and poison messages: strings no store keeps exactly (NUL, lone surrogates) are
 * refused, or repaired when the engine writes them itself; values nested without end fail with a
 * typed error instead of overflowing the stack; a stored message that cannot be read back is
 * dead-lettered with the reason while the claim and the consumer go on.
 */
public abstract class HostileInputContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  /** A high surrogate with no low one after it: UTF-8 cannot encode it. */
  private static final String LONE_HIGH = "\uD800";

  private final List<WorkflowWorker> workers = new ArrayList<>();

  /**
   * Writes text into a message's payload column behind the engine's back, as a bug or a manual fix
   * in the database would.
   *
   * @param messageId the message
   * @param storedText the text to store; each backend gets texts it can hold (see
   *     {@link #unreadablePayloads()})
   */
  protected abstract void overwritePayload(long messageId, String storedText);

  /**
   * Payload texts the backend can hold that the engine cannot read back: by default JSON nested
   * deeper than the reader's limit (PostgreSQL's jsonb accepts only JSON).
   *
   * @return the texts
   */
  protected List<String> unreadablePayloads() {
    return List.of(nestedObjectText(ValidationRules.MAX_READABLE_DEPTH + 1));
  }

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  /** {"a":{"a":...{}}}: an object nested {@code depth} levels deep, as JSON text. */
  protected static String nestedObjectText(int depth) {
    return "{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  }

  /** Maps nested {@code depth} levels deep (the outer map is level 1), built without recursion. */
  private static Map<String, Object> nestedMap(int depth) {
    Map<String, Object> map = new HashMap<>();
    for (int level = 1; level < depth; level++) {
      Map<String, Object> outer = new HashMap<>();
      outer.put("a", map);
      map = outer;
    }
    return map;
  }

  private static ObjectNode nestedNode(int depth) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    ObjectNode node = root;
    for (int level = 1; level < depth; level++) {
      node = node.putObject("a");
    }
    return root;
  }

  private <I, O> Workflow<I, O> workflow(Class<I> in, Class<O> out, io.pgqrs.workflow.WorkflowFunction<I, O> body) {
    String name = "hw" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    WorkflowDefinition<I, O> definition = Workflows.define(name.length() > 63 ? name.substring(0, 63) : name, in, out,
            body)
        .withStepOptions(new StepOptions(1, RetryPolicy.fixed(Duration.ZERO)))
        .withWorkflowRetries(StepOptions.noRetries());
    return store.runs().register(definition).block(T);
  }

  private void start(Workflow<?, ?> workflow) {
    workers.add(workflow.worker().concurrency(2).pollInterval(Duration.ofMillis(100)).start());
  }

  private static void assertRefusedNaming(Mono<?> call, String argument) {
    StepVerifier.create(call)
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(InvalidArgumentException.class);
          assertThat(((InvalidArgumentException) e).argument()).isEqualTo(argument);
        })
        .verify(T);
  }

  private void assertEmpty(String queue) {
    assertThat(store.queues().metrics(queue).block(T).live()).as("nothing inserted").isZero();
  }

  // ---------------------------------------------------------------- 1. text the store cannot keep

  @Test
  void idempotencyKeysThatDifferOnlyInALoneSurrogateAreRefusedNotMergedIntoOneRun() {
    Workflow<String, String> wf = workflow(String.class, String.class, (ctx, in) -> Mono.just(in));
    // Stored as UTF-8, both keys would become "k?" and name one run.
    assertRefusedNaming(wf.trigger("first", "k" + LONE_HIGH), "idempotencyKey");
    assertRefusedNaming(wf.trigger("second", "k\uDBFF"), "idempotencyKey");
    assertRefusedNaming(wf.trigger("third", "k\u0000"), "idempotencyKey");
    StepVerifier.create(wf.trigger("fine", "k\uD83D\uDE00")).expectNextCount(1).expectComplete().verify(T);
  }

  @Test
  void stepNamesThatDifferOnlyInALoneSurrogateFailTheRunInsteadOfSharingARecord() {
    Workflow<String, String> wf = workflow(String.class, String.class, (ctx, in) ->
        ctx.step("s" + LONE_HIGH, String.class, () -> Mono.just("one"))
            .zipWith(ctx.step("s\uDBFF", String.class, () -> Mono.just("two")), (a, b) -> a + "," + b));
    start(wf);
    RunHandle<String> run = wf.trigger("x").block(T);
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e.getMessage()).contains("name holds a lone surrogate U+D800"))
        .verify(T);
  }

  @Test
  void dedupKeysTheStoreCannotKeepAreRefused() {
    String q = newQueue();
    for (String key : List.of("d" + LONE_HIGH, "d\uDC00", "d\u0000")) {
      assertRefusedNaming(producer(q).enqueue(NewMessage.of(payload(1)).withDedupKey(key)), "dedupKey");
    }
    assertEmpty(q);
    StepVerifier.create(producer(q).enqueue(NewMessage.of(payload(1)).withDedupKey("d\uD83D\uDE00")))
        .expectNextCount(1).expectComplete().verify(T);
  }

  @Test
  void payloadKeysAndStringsTheStoreCannotKeepAreRefused() {
    String q = newQueue();
    ObjectNode nested = JsonNodeFactory.instance.objectNode();
    nested.putArray("list").add("fine").add("bad" + LONE_HIGH);
    List<Object> bad = List.of(Map.of("k" + LONE_HIGH, 1), Map.of("v", "x\uDC00y"), Map.of("v", "nul\u0000"),
        Map.of("outer", Map.of("inner\u0000", "v")), nested);
    for (Object payload : bad) {
      StepVerifier.create(producer(q).enqueue(payload))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOf(ValidationException.class);
            assertThat(((ValidationException) e).rule()).isEqualTo(ValidationException.Rule.UNSTORABLE_TEXT);
          })
          .verify(T);
    }
    assertEmpty(q);
    long id = producer(q).enqueue(Map.of("emoji\uD83D\uDE00", "ok \uD83D\uDE00")).block(T);
    assertThat(store.messages().get(id).block(T).payload().get("emoji\uD83D\uDE00").textValue())
        .isEqualTo("ok \uD83D\uDE00");
  }

  @Test
  void namesReasonsAndErrorsTheStoreCannotKeepAreRefusedNamingTheField() {
    String q = newQueue();
    assertRefusedNaming(store.workers().register("worker" + LONE_HIGH, q), "workerName");
    Workflow<String, String> wf = workflow(String.class, String.class, (ctx, in) -> Mono.just(in));
    long runId = wf.trigger("x").block(T).runId();
    assertRefusedNaming(store.runs().signal(runId, "go\u0000", "v"), "name");
    assertRefusedNaming(store.runs().cancel(runId, "because" + LONE_HIGH), "reason");
    producer(q).enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    List<Message> claimed = claim(q, 2);
    assertRefusedNaming(store.messages().release(claimed.get(0).lease(), Duration.ZERO, "e\u0000"), "error");
    assertRefusedNaming(store.messages().deadLetter(claimed.get(1).lease(), "e" + LONE_HIGH), "error");
  }

  @Test
  void workflowInputsAndSignalValuesTheStoreCannotKeepAreRefused() {
    Workflow<JsonNode, String> wf = workflow(JsonNode.class, String.class, (ctx, in) -> Mono.just("done"));
    StepVerifier.create(wf.trigger(JsonNodeFactory.instance.objectNode().put("k", "v" + LONE_HIGH)))
        .expectError(SerializationFailedException.class).verify(T);
    long runId = wf.trigger(JsonNodeFactory.instance.objectNode().put("k", "v")).block(T).runId();
    StepVerifier.create(store.runs().signal(runId, "go", Map.of("k\u0000", "v")))
        .expectError(SerializationFailedException.class).verify(T);
  }

  @Test
  void errorTextsTheEngineWritesAreRepairedNotRefused() {
    String q = newQueue(5);
    long id = producer(q).enqueue(payload(1)).block(T);
    Outcome outcome = store.consumer(q).retryPolicy(RetryPolicy.fixed(Duration.ofMinutes(10))).build()
        .handle(m -> Mono.error(new IllegalStateException("bad " + LONE_HIGH + " and \u0000 end")))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY_SCHEDULED);
    StateWait.until("the failure recorded", T, () -> store.messages().get(id).map(m -> m.lastError() != null));
    assertThat(store.messages().get(id).block(T).lastError())
        .isEqualTo("java.lang.IllegalStateException: bad \uFFFD and \uFFFD end");
  }

  @Test
  void aStepErrorTextIsRepairedAndTheRunFailsWithIt() {
    Workflow<String, String> wf = workflow(String.class, String.class, (ctx, in) ->
        ctx.step("boom", String.class, () -> Mono.error(new IllegalStateException("x" + LONE_HIGH + "\u0000y"))));
    start(wf);
    RunHandle<String> run = wf.trigger("x").block(T);
    StepVerifier.create(run.result()).expectError().verify(T);
    assertThat(run.info().block(T).error()).contains("x\uFFFD\uFFFDy");
  }

  // ---------------------------------------------------------------- 2. values nested without end

  @Test
  void aPayloadNestedTenThousandDeepIsRefusedWithoutOverflowingTheStack() {
    String q = newQueue();
    List<Object> payloads = new ArrayList<>(List.of(nestedMap(10_000), nestedNode(10_000)));
    Object list = List.of();
    for (int level = 1; level < 10_000; level++) {
      list = List.of(list);
    }
    payloads.add(Map.of("list", list));
    for (Object payload : payloads) {
      StepVerifier.create(producer(q).enqueue(payload))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOf(ValidationException.class);
            assertThat(((ValidationException) e).rule()).isEqualTo(ValidationException.Rule.MAX_DEPTH);
          })
          .verify(T);
    }
    assertEmpty(q);
  }

  @Test
  void theDeepestPayloadTheRulesAllowIsReadBack() {
    String q = newQueue();
    ValidationRules deepest = ValidationRules.defaults().withMaxDepth(ValidationRules.MAX_READABLE_DEPTH);
    long id = store.producer(q).validation(deepest).build().enqueue(nestedMap(ValidationRules.MAX_READABLE_DEPTH))
        .block(T);
    List<Message> claimed = claim(q, 1);
    assertThat(claimed).extracting(Message::id).containsExactly(id);
    assertThat(claimed.get(0).payload().isObject()).isTrue();
  }

  @Test
  void aWorkflowInputOrStepOutputNestedTenThousandDeepFailsTyped() {
    Workflow<JsonNode, String> wf = workflow(JsonNode.class, String.class, (ctx, in) ->
        ctx.step("deep", Object.class, () -> Mono.just(nestedMap(10_000))).map(m -> "unreachable"));
    StepVerifier.create(wf.trigger(nestedNode(10_000))).expectError(SerializationFailedException.class).verify(T);
    start(wf);
    RunHandle<String> run = wf.trigger(JsonNodeFactory.instance.objectNode()).block(T);
    StepVerifier.create(run.result()).expectErrorSatisfies(e -> assertThat(e.getMessage()).contains("nesting depth"))
        .verify(T);
  }

  // ---------------------------------------------------------------- 3. poison messages

  /** Enqueues one message per unreadable text, then one good message; returns the bad ids. */
  private List<Long> poisonThenGood(String q, List<Long> good) {
    List<Long> bad = new ArrayList<>();
    for (String text : unreadablePayloads()) {
      long id = producer(q).enqueue(payload(0)).block(T);
      overwritePayload(id, text);
      bad.add(id);
    }
    good.add(producer(q).enqueue(payload(1)).block(T));
    return bad;
  }

  private void assertDeadWithReason(String q, List<Long> bad) {
    List<Message> dead = store.deadLetters().list(q, 0, 100).collectList().block(T);
    assertThat(dead).extracting(Message::id).containsExactlyInAnyOrderElementsOf(bad);
    assertThat(dead).allSatisfy(m -> {
      assertThat(m.state()).isEqualTo(MessageState.DEAD);
      assertThat(m.lastError()).startsWith("the stored payload ");
    });
  }

  @Test
  void aClaimDeadLettersMessagesItCannotReadAndReturnsTheOthers() {
    String q = newQueue();
    List<Long> good = new ArrayList<>();
    List<Long> bad = poisonThenGood(q, good);
    assertThat(claim(q, 10)).extracting(Message::id).containsExactlyElementsOf(good);
    assertDeadWithReason(q, bad);
  }

  @Test
  void aConsumerDeadLettersAMessageItCannotReadAndHandlesTheNextOne() {
    String q = newQueue();
    List<Long> good = new ArrayList<>();
    List<Long> bad = poisonThenGood(q, good);
    Outcome outcome = store.consumer(q).batchSize(1).build().handle(m -> Mono.empty()).blockFirst(T);
    assertThat(outcome.messageId()).isEqualTo(good.get(0));
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.ARCHIVED);
    assertDeadWithReason(q, bad);
  }
}
