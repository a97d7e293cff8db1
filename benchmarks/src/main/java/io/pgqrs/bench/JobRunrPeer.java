package io.pgqrs.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.LongStream;
import org.jobrunr.jobs.lambdas.JobLambdaFromStream;
import org.jobrunr.jobs.mappers.JobMapper;
import org.jobrunr.jobs.states.StateName;
import org.jobrunr.scheduling.JobScheduler;
import org.jobrunr.server.BackgroundJobServer;
import org.jobrunr.server.BackgroundJobServerConfiguration;
import org.jobrunr.server.JobActivator;
import org.jobrunr.storage.StorageProviderUtils;
import org.jobrunr.storage.sql.postgres.PostgresStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * JobRunr draining enqueued fire-and-forget jobs. Configured as its documentation recommends for
 * throughput within its limits: the PostgreSQL storage provider on a Hikari pool, jobs enqueued
 * in bulk with {@code JobScheduler.enqueue(Stream, lambda)} (saved in batches), a background job
 * server with {@code workerCount} = consumers and the smallest poll interval JobRunr accepts for
 * a SQL store (5 s; an idle worker asks for new work at once, so a backlog does not wait for the
 * poll). Each job carries the ~256-byte JSON payload as its argument. "Done" is JobRunr's own
 * count of SUCCEEDED jobs.
 */
final class JobRunrPeer implements DrainPeer {

  private final Target target;
  private final String schema;
  private final HikariDataSource dataSource;
  private final PostgresStorageProvider storage;
  private final JacksonJsonMapper mapper = new JacksonJsonMapper();

  JobRunrPeer(Target target, int maxConsumers) {
    this.target = target;
    this.schema = target.newSchema("jobrunr");
    this.dataSource = target.dataSource(schema, maxConsumers + 6, "jobrunr");
    this.storage = new PostgresStorageProvider(dataSource, schema + ".",
        StorageProviderUtils.DatabaseOptions.CREATE);
    this.storage.setJobMapper(new JobMapper(mapper));
  }

  @Override
  public String name() {
    return "jobrunr";
  }

  @Override
  public String configuration(int consumers) {
    return "JobRunr 8.7.0: BackgroundJobServer workerCount=" + consumers + ", pollInterval=5s (the minimum "
        + "for SQL stores), PostgresStorageProvider on a Hikari pool of " + (consumers + 6)
        + ", jobs enqueued in bulk from a Stream, payload as the job argument";
  }

  @Override
  public void prefill(long messages) {
    storage.deleteJobsPermanently(StateName.SUCCEEDED, Instant.now().plusSeconds(60));
    JobScheduler scheduler = new JobScheduler(storage);
    JobLambdaFromStream<String> job = payload -> JobRunrWork.handle(payload);
    scheduler.enqueue(LongStream.range(0, messages).mapToObj(Payloads::json), job);
    target.execute("VACUUM ANALYZE \"" + schema + "\".jobrunr_jobs");
  }

  @Override
  public Run drain(int consumers, long messages) throws InterruptedException {
    JobRunrWork.reset();
    BackgroundJobServerConfiguration config = BackgroundJobServerConfiguration
        .usingStandardBackgroundJobServerConfiguration()
        .andWorkerCount(consumers)
        .andPollInterval(Duration.ofSeconds(5));
    JobActivator activator = new JobActivator() {
      @Override
      public <T> T activateJob(Class<T> type) {
        return null;
      }
    };
    BackgroundJobServer server = new BackgroundJobServer(storage, mapper, activator, config);
    long started = System.nanoTime();
    server.start();
    long done = 0;
    long deadline = started + Duration.ofMinutes(30).toNanos();
    long lastReport = started;
    long end;
    try {
      while (done < messages && System.nanoTime() < deadline) {
        Thread.sleep(20);
        done = storage.countJobs(StateName.SUCCEEDED);
        if (System.nanoTime() - lastReport > 10_000_000_000L) {
          Progress.within("jobrunr", done, messages, started);
          lastReport = System.nanoTime();
        }
      }
    } finally {
      end = System.nanoTime();
      server.stop();
    }
    long begin = JobRunrWork.firstStart() == 0 ? started : JobRunrWork.firstStart();
    return new Run(done, end - begin);
  }

  @Override
  public void close() {
    storage.close();
    dataSource.close();
  }
}
