package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;
import io.pgqrs.workflow.Workflow;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The workflow contract on SQLite (a file), plus what SQLite does not have. */
class SqliteFileWorkflowTest extends WorkflowContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }

  @Test
  void transactionalStepsFailForGoodWithATypedError() {
    assertThat(store.capabilities().transactionalSteps()).isFalse();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.transactionalStep("sql", String.class, c -> Mono.just("never"))));
    start(workflow, 1);
    StepVerifier.create(workflow.trigger("x").block(T).result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("after 1 attempt")
            .hasMessageContaining("transactional steps need"))
        .verify(T);
  }
}
