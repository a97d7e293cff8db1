package io.pgqrs.exampleapp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * A stand-in carrier: a shipment always succeeds with an id derived from the run. It remembers the
 * shipments made in this process, for the tests to count.
 */
@Component
public class FakeShipping {

  private final List<String> shipments = new CopyOnWriteArrayList<>();

  /**
   * Ships an order. Cold: nothing ships until subscribed; it does not fail.
   *
   * @param runId the checkout run
   * @param order the order
   * @return the shipment id, {@code ship-<runId>}
   */
  public Mono<String> ship(long runId, Order order) {
    return Mono.fromSupplier(() -> {
      String shipmentId = "ship-" + runId;
      shipments.add(shipmentId);
      return shipmentId;
    });
  }

  /**
   * The shipments made by this process since it started, oldest first.
   *
   * @return the shipment ids
   */
  public List<String> shipments() {
    return List.copyOf(shipments);
  }
}
