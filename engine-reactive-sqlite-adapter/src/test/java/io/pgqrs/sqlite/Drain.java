package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Claims and archives until the queue is empty; emits the ids it archived. */
final class Drain {

  private Drain() {}

  static Flux<Long> drain(Store store, String queue, int batch) {
    return store.messages().claim(queue, batch, Duration.ofMinutes(5), null)
        .flatMap(ms -> ms.isEmpty()
            ? Mono.just(List.<Long>of())
            : store.messages().archiveAll(ms.stream().map(Message::lease).toList())
                .map(n -> ms.stream().map(Message::id).toList()))
        .repeat()
        .takeUntil(List::isEmpty)
        .flatMapIterable(ids -> ids);
  }
}
