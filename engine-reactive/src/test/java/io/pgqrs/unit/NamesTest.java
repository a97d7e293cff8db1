package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.internal.Names;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of {@link Names}: hostile names never reach SQL text. */
class NamesTest {

  private static final String LEN_63 = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";
  private static final String LEN_64 = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  private static InvalidArgumentException argumentError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(InvalidArgumentException.class);
    return (InvalidArgumentException) thrown;
  }

  // ---------------------------------------------------------------- schema

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"public", "_", "_private", "Jobs_2024", "a1", LEN_63})
  void validSchemaIsReturnedUnchanged(String schema) {
    assertThat(Names.checkSchema(schema)).isSameAs(schema);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @NullAndEmptySource
  @ValueSource(strings = {
      " ",
      "bad;name",
      "\"quoted\"",
      "a\"b",
      "a'b",
      "a b",
      " public",
      "public ",
      "1schema",
      "9",
      "drop table x;--",
      "public; drop schema public cascade; --",
      "a-b",
      "a.b",
      "a/b",
      "a\\b",
      "a$b",
      "a\u0000b",
      "public\n",
      "\u0440ublic",
      "publ\u0456c",
      "\uff50ublic",
      "sch\u00e9ma",
      "\u00c5ngstr\u00f6m",
      "public\u200b",
      LEN_64
  })
  void hostileSchemaIsRejectedWithConfigurationExceptionNamingSchema(String schema) {
    ConfigurationException e = configError(() -> Names.checkSchema(schema));

    assertThat(e.field()).isEqualTo("schema");
    assertThat(e).isNotInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void schemaOf64CharactersIsRejectedNamingSchema() {
    assertThat(configError(() -> Names.checkSchema("s".repeat(64))).field()).isEqualTo("schema");
  }

  @Test
  void maxIdentifierLengthIs63() {
    assertThat(Names.MAX_IDENTIFIER_LENGTH).isEqualTo(63);
  }

  @Test
  void rejectionMessageOfAHugeNameIsBounded() {
    String huge = "x;".repeat(50_000);

    ConfigurationException e = configError(() -> Names.checkSchema(huge));

    assertThat(e.getMessage()).hasSizeLessThan(400).contains("100000 characters");
  }

  // ---------------------------------------------------------------- quoteIdentifier

  @Test
  void quoteIdentifierWrapsACheckedIdentifierInDoubleQuotes() {
    assertThat(Names.quoteIdentifier("jobs")).isEqualTo("\"jobs\"");
    assertThat(Names.quoteIdentifier("Mixed_Case1")).isEqualTo("\"Mixed_Case1\"");
  }

  @ParameterizedTest(name = "\"{0}\"")
  @NullAndEmptySource
  @ValueSource(strings = {"x\"; drop schema public; --", "a\"b", "a\"\"b", "bad;name", "a b", "\u0440ublic", LEN_64})
  void quoteIdentifierRefusesHostileIdentifiersNamingSchema(String identifier) {
    assertThat(configError(() -> Names.quoteIdentifier(identifier)).field()).isEqualTo("schema");
  }

  // ---------------------------------------------------------------- queue

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"orders", "_q", "orders.v2", "my-queue", "Q_1.a-b", "q", LEN_63})
  void validQueueIsReturnedUnchanged(String queue) {
    assertThat(Names.checkQueue(queue)).isSameAs(queue);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @NullAndEmptySource
  @ValueSource(strings = {
      " ",
      "a;b",
      "a b",
      "a'b",
      "a\"b",
      "q'); delete from messages; --",
      "1queue",
      "-q",
      ".q",
      "a/b",
      "a\\b",
      "a$b",
      "a%b",
      "a*b",
      "q\u0000",
      "q\n",
      "q\t",
      "ord\u0435rs",
      "\uff51ueue",
      "caf\u00e9",
      "q\u200b",
      "\u202eq",
      LEN_64
  })
  void hostileQueueIsRejectedWithInvalidArgumentNamingQueue(String queue) {
    InvalidArgumentException e = argumentError(() -> Names.checkQueue(queue));

    assertThat(e.argument()).isEqualTo("queue");
    assertThat(e).isNotInstanceOf(ConfigurationException.class);
  }

  @Test
  void queueOf64CharactersIsRejectedNamingQueue() {
    assertThat(argumentError(() -> Names.checkQueue("q".repeat(64))).argument()).isEqualTo("queue");
  }

  @Test
  void queueRejectionMessageQuotesTheName() {
    InvalidArgumentException e = argumentError(() -> Names.checkQueue("a;b"));

    assertThat(e.getMessage()).contains("'a;b'");
  }

  // ---------------------------------------------------------------- worker name

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {
      "worker-1",
      "host.example.com:1234",
      "w",
      "worker 'quoted'; still only a value",
      "w\u00f6rker \u65e5\u672c",
      "  padded  "
  })
  void workerNameIsAValueSoAnyPrintableTextIsAccepted(String name) {
    assertThat(Names.checkWorkerName(name)).isSameAs(name);
  }

  @Test
  void workerNameOf200CharactersIsAccepted() {
    String name = "w".repeat(200);

    assertThat(Names.checkWorkerName(name)).isSameAs(name);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @NullAndEmptySource
  @ValueSource(strings = {" ", "\t", "   \n ", "a\nb", "a\rb", "a\u0000b", "w\u0007", "w\u007f", "w\u0085", "w\u001b[31m"})
  void blankOrControlCharacterWorkerNameIsRejectedNamingWorkerName(String name) {
    InvalidArgumentException e = argumentError(() -> Names.checkWorkerName(name));

    assertThat(e.argument()).isEqualTo("workerName");
  }

  @Test
  void workerNameOf201CharactersIsRejectedNamingWorkerName() {
    assertThat(argumentError(() -> Names.checkWorkerName("w".repeat(201))).argument()).isEqualTo("workerName");
  }
}
