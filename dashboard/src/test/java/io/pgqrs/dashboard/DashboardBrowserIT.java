package io.pgqrs.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import reactor.core.publisher.Mono;

/**
 * The dashboard end to end: a {@link DashboardServer} on a free loopback port against PostgreSQL,
 * driven by headless Chromium. Each test saves a screenshot of its page to
 * {@code target/screenshots}. Without Chromium the class is skipped, except under {@code CI=true},
 * where it fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserIT {

  @RegisterExtension
  static final PostgresDatabase DATABASE = new PostgresDatabase();

  static final Duration T = Duration.ofSeconds(30);
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private final PostgresDatabase.Target target;
  private Store store;
  private DashboardServer.Running server;
  private WebDriver browser;
  private Path profile;

  DashboardBrowserIT(PostgresDatabase.Target target) {
    this.target = target;
  }

  @BeforeAll
  void startServerAndBrowser() throws IOException {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      String why = "headless Chromium is missing: install it with apt-get install -y chromium chromium-driver";
      if ("true".equals(System.getenv("CI"))) {
        Assertions.fail(why);
      }
      Assumptions.abort(why);
    }
    store = Objects.requireNonNull(Pgqrs.connect(target.dsn()).block(T));
    store.admin().install().block(T);
    server = DashboardServer.builder(PgqrsDashboard.builder(store).build()).port(0).build().start().block(T);

    profile = Files.createTempDirectory("pgqrs-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + profile, "--window-size=1400,1000");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  void stopEverything() throws IOException {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.stop().block(T);
    }
    if (store != null) {
      store.close().block(T);
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  private WebDriverWait waiting() {
    return new WebDriverWait(browser, T);
  }

  private void screenshot(String name) {
    Path dir = Path.of(System.getProperty("pgqrs.dashboard.screenshots", "target/screenshots"));
    try {
      Files.createDirectories(dir);
      File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
      Files.copy(shot.toPath(), dir.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void theOverviewOpens() {
    store.queues().create("it_orders").block(T);
    store.producer("it_orders").build().enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2), Map.of("n", 3))).block(T);
    store.workers().register("it-worker-1", "it_orders").block(T);

    browser.get(url("/pgqrs"));
    assertThat(browser.getTitle()).startsWith("Overview");
    assertThat(browser.findElement(By.cssSelector("tr[data-queue='it_orders'] [data-field='pending']")).getText())
        .isEqualTo("3");
    assertThat(browser.findElement(By.id("workers")).getText()).contains("it-worker-1").contains("healthy");
    waiting().until(ExpectedConditions.attributeContains(By.id("live"), "class", "on"));
    screenshot("overview");
  }

  @Test
  void aNewQueueAppearsWithoutAReload() {
    browser.get(url("/pgqrs"));
    ((JavascriptExecutor) browser).executeScript("window.pgqrsNotReloaded = true;");
    waiting().until(ExpectedConditions.attributeContains(By.id("live"), "class", "on"));

    store.queues().create("it_arrives_live").block(T);
    store.producer("it_arrives_live").build().enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2))).block(T);

    By pending = By.cssSelector("tr[data-queue='it_arrives_live'] [data-field='pending']");
    waiting().until(ExpectedConditions.textToBe(pending, "2"));
    assertThat(((JavascriptExecutor) browser).executeScript("return window.pgqrsNotReloaded === true;"))
        .isEqualTo(true);
    screenshot("overview-live");
  }

  @Test
  void aDeadLetterIsReplayedByClickingAndConfirming() {
    String q = "it_dead";
    store.queues().create(q).block(T);
    long id = store.producer(q).build().enqueue(Map.of("order", 42)).block(T);
    Message claimed = store.messages().claim(q, 1).block(T).get(0);
    store.messages().deadLetter(claimed.lease(), "card declined <b>twice</b>").block(T);

    browser.get(url("/pgqrs/queues/" + q));
    WebElement row = browser.findElement(By.cssSelector("tr[data-message='" + id + "']"));
    assertThat(row.getText()).contains("card declined <b>twice</b>");
    row.findElement(By.cssSelector("button.replay")).click();
    waiting().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("button.confirm")));
    assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.DEAD);
    screenshot("replay-confirm");
    browser.findElement(By.cssSelector("button.confirm")).click();

    waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("notice"), "replayed 1 message"));
    Message replayed = store.messages().get(id).block(T);
    assertThat(replayed.state()).isEqualTo(MessageState.LIVE);
    assertThat(replayed.attempts()).isZero();
    screenshot("queue-replayed");
  }

  @Test
  void aRunShowsItsStepsAndIsCancelledByClicking() {
    String name = "it_checkout";
    WorkflowDefinition<String, String> checkout = Workflows.define(name, String.class, String.class,
        (ctx, order) -> ctx.step("reserve", String.class, () -> Mono.just("reserved " + order))
            .flatMap(r -> ctx.step("charge", String.class, () -> Mono.just("charged " + order)))
            .flatMap(charged -> ctx.awaitSignal("shipped", Boolean.class, Duration.ofHours(1))
                .map(ok -> charged + ", shipped")));
    Workflow<String, String> workflow = store.runs().register(checkout).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(1).pollInterval(Duration.ofMillis(100)).start();
    try {
      RunHandle<String> run = workflow.trigger("order-7").block(T);
      StateWait.until("the run waits for its signal", T, () -> store.runs().steps(run.runId()).collectList(),
          steps -> steps.stream().map(StepInfo::status).toList()
              .equals(List.of(StepStatus.SUCCESS, StepStatus.SUCCESS, StepStatus.WAITING)));

      browser.get(url("/pgqrs/runs?workflow=" + name));
      browser.findElement(By.linkText(Long.toString(run.runId()))).click();
      waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("steps")));
      assertThat(browser.findElement(By.cssSelector("tr[data-step='reserve']")).getText()).contains("SUCCESS")
          .contains("reserved order-7");
      assertThat(browser.findElement(By.cssSelector("tr[data-step='charge']")).getText()).contains("charged order-7");
      assertThat(browser.findElements(By.cssSelector("#steps tbody tr"))).hasSize(3);
      screenshot("run");

      WebElement reason = browser.findElement(By.cssSelector("form[action$='/cancel'] input[name='reason']"));
      reason.clear();
      reason.sendKeys("customer left");
      browser.findElement(By.cssSelector("button.cancel-run")).click();
      waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("notice")));
      assertThat(StateWait.until("the run is cancelled", T, () -> store.runs().get(run.runId()),
          r -> r.status() == RunStatus.CANCELLED).error()).contains("customer left");
      browser.navigate().refresh();
      assertThat(browser.findElement(By.tagName("h1")).getText()).contains("CANCELLED");
      screenshot("run-cancelled");
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void aFailedRunIsRestartedByClickingAndConfirmingAndFinishes() {
    java.util.concurrent.atomic.AtomicBoolean fixed = new java.util.concurrent.atomic.AtomicBoolean();
    Workflow<String, String> workflow = store.runs().register(Workflows.define("it_repair", String.class, String.class,
            (ctx, order) -> ctx.step("pack", String.class, () -> Mono.just("packed " + order))
                .flatMap(p -> ctx.step("ship", String.class, () -> fixed.get() ? Mono.just(p + ", shipped")
                    : Mono.error(new IllegalStateException("courier down")))))
        .withStepOptions(io.pgqrs.workflow.StepOptions.noRetries())
        .withWorkflowRetries(io.pgqrs.workflow.StepOptions.noRetries())).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(1).pollInterval(Duration.ofMillis(100)).start();
    try {
      long id = workflow.trigger("order-9").block(T).runId();
      StateWait.until("the run fails", T, () -> store.runs().get(id), r -> r.status() == RunStatus.ERROR);

      browser.get(url("/pgqrs/runs/" + id));
      assertThat(browser.findElement(By.tagName("h1")).getText()).contains("ERROR");
      fixed.set(true);
      browser.findElement(By.cssSelector("button.restart-run")).click();
      waiting().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("button.confirm")));
      assertThat(store.runs().get(id).block(T).status()).isEqualTo(RunStatus.ERROR);
      screenshot("restart-confirm");
      browser.findElement(By.cssSelector("button.confirm")).click();

      waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("notice"), "restart: run " + id));
      RunInfo finished = StateWait.until("the restarted run finishes", T, () -> store.runs().get(id),
          r -> r.status() == RunStatus.SUCCESS);
      assertThat(finished.output().asText()).isEqualTo("packed order-9, shipped");
      browser.navigate().refresh();
      assertThat(browser.findElement(By.tagName("h1")).getText()).contains("SUCCESS");
      assertThat(browser.findElements(By.cssSelector("button.restart-run"))).isEmpty();
      screenshot("run-restarted");
    } finally {
      worker.stop().block(T);
    }
  }
}
