package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The REST client against a real local HTTP server that answers like a busy Connect worker. */
class ConnectRestClientTest {

  private static final String REBALANCE =
      "{\"error_code\":409,\"message\":\"Cannot complete request because of a conflicting"
          + " operation (e.g. worker rebalance)\"}";

  private final AtomicInteger requests = new AtomicInteger();
  private final Deque<Integer> answers = new ArrayDeque<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final ExecutorService handlers = Executors.newCachedThreadPool();
  private HttpServer server;

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
    handlers.shutdownNow();
  }

  /** A worker that answers the statuses given, in order, then keeps answering the last one. */
  private ConnectRestClient worker(Integer... statuses) throws IOException {
    answers.addAll(List.of(statuses));
    return start(
        exchange -> {
          requests.incrementAndGet();
          int status = answers.size() > 1 ? answers.poll() : answers.peek();
          answer(exchange, status);
        },
        Duration.ofSeconds(30));
  }

  private ConnectRestClient start(HttpHandler handler, Duration requestTimeout) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(handlers);
    server.createContext("/", handler);
    server.start();
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new ConnectRestClient(base, null, null, requestTimeout, 4, Duration.ofMillis(1));
  }

  private static void answer(HttpExchange exchange, int status) throws IOException {
    StubAnswers.answer(
        exchange,
        status,
        status == 409 ? REBALANCE : status >= 300 ? "{\"message\":\"boom\"}" : "{}");
  }

  @Test
  void aRebalanceInProgressIsRetried() throws IOException {
    ConnectRestClient rest = worker(409, 409, 201);
    rest.putConfig("memory-kv", Map.of("connector.class", "x.Y"));
    assertEquals(3, requests.get());
  }

  @Test
  void serverErrorsAreRetriedABoundedNumberOfTimes() throws IOException {
    ConnectRestClient rest = worker(503);
    ConnectRestClient.RestException e =
        assertThrows(
            ConnectRestClient.RestException.class,
            () -> rest.validate("x.Y", Map.of("connector.class", "x.Y")));
    assertEquals(503, e.status());
    assertEquals(4, requests.get(), "4 attempts, then give up");
    assertTrue(e.getMessage().contains("boom"), e.getMessage());
  }

  @Test
  void aRequestThatTimesOutIsSentAgain() throws IOException {
    ConnectRestClient rest =
        start(
            exchange -> {
              if (requests.incrementAndGet() == 1) {
                try {
                  release.await(); // the first answer never comes in time
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              answer(exchange, 200);
            },
            Duration.ofMillis(300));
    rest.status("memory-kv");
    assertEquals(2, requests.get());
  }

  @Test
  void clientErrorsAreNotRetried() throws IOException {
    ConnectRestClient rest = worker(400);
    assertThrows(
        ConnectRestClient.RestException.class,
        () -> rest.putConfig("memory-kv", Map.of("connector.class", "x.Y")));
    assertEquals(1, requests.get());
  }

  /**
   * A call bounded by a deadline (the --timeout of a wait) stops retrying before a backoff would
   * carry it past the deadline, rather than spending its whole retry budget (here 200 ms, 400 ms,
   * ... over six attempts: 6.2 s) after it.
   */
  @Test
  void aBoundedCallDoesNotRetryPastItsDeadline() throws IOException {
    ConnectRestClient rest = busyWorker(Duration.ofSeconds(30)).within(Duration.ofMillis(500));
    assertThrows(ConnectRestClient.RestException.class, () -> rest.status("memory-kv"));
    assertEquals(2, requests.get(), "at 0 and after 200 ms; the 400 ms backoff would pass 500 ms");
  }

  /** A request's own timeout is cut to the time left, so one slow answer cannot outlast it. */
  @Test
  @Timeout(30) // unbounded, the call would wait out its 10 minute request timeout
  void aBoundedCallsRequestTimesOutWithItsDeadline() throws IOException {
    ConnectRestClient rest =
        start(
                exchange -> {
                  requests.incrementAndGet();
                  try {
                    release.await(); // no answer until the test ends
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  answer(exchange, 200);
                },
                Duration.ofMinutes(10))
            .within(Duration.ofMillis(300));
    assertThrows(java.net.http.HttpTimeoutException.class, () -> rest.status("memory-kv"));
    assertEquals(1, requests.get());
  }

  /** A worker that answers 503 to everything, with six attempts and backoffs from 200 ms. */
  private ConnectRestClient busyWorker(Duration requestTimeout) throws IOException {
    start(
        exchange -> {
          requests.incrementAndGet();
          answer(exchange, 503);
        },
        requestTimeout);
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new ConnectRestClient(base, null, null, requestTimeout, 6, Duration.ofMillis(200));
  }
}
