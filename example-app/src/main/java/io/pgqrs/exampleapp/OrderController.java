package io.pgqrs.exampleapp;

import io.pgqrs.Store;
import io.pgqrs.spring.PgqrsWorkflows;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;

/**
 * The orders API. An order is a run of the {@link CheckoutWorkflow}: its id is the run's id. Every
 * method returns a cold {@code Mono} that does its store I/O when WebFlux subscribes; errors
 * become JSON answers through {@link ApiErrors}.
 */
@RestController
@RequestMapping("/orders")
public class OrderController {

  private final Store store;
  private final PgqrsWorkflows workflows;

  /**
   * Creates the controller.
   *
   * @param store the application's store
   * @param workflows the workflows registered by the starter
   */
  public OrderController(Store store, PgqrsWorkflows workflows) {
    this.store = store;
    this.workflows = workflows;
  }

  /**
   * The answer of {@code POST /orders}.
   *
   * @param id the new order's id (its run's id)
   * @param status the run's status when triggered
   * @param location where to follow it ({@code /orders/{id}})
   */
  public record OrderAccepted(long id, RunStatus status, String location) {}

  /**
   * The answer of {@code POST /orders/{id}/approve}.
   *
   * @param id the order
   * @param approval {@code accepted} when this call sent the approval, {@code already_approved}
   *     when the order had been approved before (nothing was sent)
   */
  public record ApprovalAccepted(long id, String approval) {}

  /**
   * Places an order: validates the body and triggers a checkout run. With an
   * {@code Idempotency-Key} header, a retried request returns the run of the first one.
   *
   * @param body the JSON body
   * @param idempotencyKey optional; at most one run per key
   * @return 202 with the run's id and a {@code Location} header; 400 for a bad body or key
   */
  @PostMapping
  public Mono<ResponseEntity<OrderAccepted>> create(@RequestBody(required = false) @Nullable Mono<OrderRequest> body,
      @RequestHeader(name = "Idempotency-Key", required = false) @Nullable String idempotencyKey) {
    Mono<OrderRequest> request = body == null ? Mono.empty() : body;
    return request
        .switchIfEmpty(Mono.error(() -> new ServerWebInputException("the request needs a JSON body: "
            + "{\"item\": ..., \"quantity\": ..., \"customerEmail\": ...}")))
        .map(OrderRequest::validate)
        .flatMap(order -> {
          Workflow<Order, Receipt> checkout = workflows.get(CheckoutWorkflow.NAME);
          return idempotencyKey == null ? checkout.trigger(order) : checkout.trigger(order, idempotencyKey);
        })
        .map(RunHandle::runId)
        .map(id -> {
          URI location = URI.create("/orders/" + id);
          return ResponseEntity.accepted().location(location)
              .body(new OrderAccepted(id, RunStatus.QUEUED, location.toString()));
        });
  }

  /**
   * Shows an order: its run's status, its stage and its recorded steps.
   *
   * @param id the order
   * @return 200 with the {@link OrderView}; 404 for an unknown id
   */
  @GetMapping("/{id}")
  public Mono<OrderView> get(@PathVariable("id") long id) {
    return checkoutRun(id)
        .flatMap(run -> store.runs().steps(id).collectList().map(steps -> OrderView.of(run, steps)));
  }

  /**
   * Approves an order: sends the {@value CheckoutWorkflow#APPROVAL_SIGNAL} signal its run waits
   * for. Idempotent: an order approved before answers 200 {@code already_approved} and sends
   * nothing. An approval sent before the run reaches its wait (while it is still charging) is kept
   * and taken when the wait begins. Two approvals racing each other both answer 202; the run takes
   * one and ships once.
   *
   * @param id the order
   * @return 202 {@code accepted}, or 200 {@code already_approved}; 404 for an unknown id; 409 for
   *     an order that failed, was cancelled or whose approval timed out
   */
  @PostMapping("/{id}/approve")
  public Mono<ResponseEntity<ApprovalAccepted>> approve(@PathVariable("id") long id) {
    return checkoutRun(id)
        .flatMap(run -> store.runs().steps(id).collectList().flatMap(steps -> approve(run, steps)));
  }

  private Mono<ResponseEntity<ApprovalAccepted>> approve(RunInfo run, List<StepInfo> steps) {
    long id = run.id();
    Optional<StepInfo> approval = OrderView.approvalStep(steps);
    if (run.status() == RunStatus.SUCCESS || approval.map(s -> s.status() == StepStatus.SUCCESS).orElse(false)) {
      return Mono.just(ResponseEntity.ok(new ApprovalAccepted(id, "already_approved")));
    }
    if (run.status().isFinished() || run.status() == RunStatus.CANCELLING) {
      return Mono.error(new OrderConflictException(id, "it is " + run.status()));
    }
    if (approval.map(s -> s.status() == StepStatus.ERROR).orElse(false)) {
      return Mono.error(new OrderConflictException(id, "its approval timed out"));
    }
    return store.runs().signal(id, CheckoutWorkflow.APPROVAL_SIGNAL, Boolean.TRUE)
        // The run finished between the read and the signal (cancelled, or timed out).
        .onErrorMap(RunStateException.class, e -> new OrderConflictException(id, "it is " + e.status()))
        .thenReturn(ResponseEntity.status(HttpStatus.ACCEPTED).body(new ApprovalAccepted(id, "accepted")));
  }

  /** The run of an order, failing with {@link OrderNotFoundException} for a run of another workflow too. */
  private Mono<RunInfo> checkoutRun(long id) {
    return store.runs().get(id)
        .onErrorMap(RunNotFoundException.class, e -> new OrderNotFoundException(id))
        .filter(run -> CheckoutWorkflow.NAME.equals(run.workflow()))
        .switchIfEmpty(Mono.error(() -> new OrderNotFoundException(id)));
  }
}
