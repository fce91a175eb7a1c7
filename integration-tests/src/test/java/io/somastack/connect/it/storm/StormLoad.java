package io.somastack.connect.it.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The load of a sink's rebalance-storm IT: a producer sending, until stopped, one event to each
 * partition of a topic every 25 ms (about 40 events/s per partition), the n-th event of a partition
 * made with sequence number n. Idempotent with acks=all, so every acknowledged event is in the
 * topic once, at offset n of its partition (the topic is written by nothing else).
 */
public final class StormLoad implements AutoCloseable {

  /** The event of a partition with its sequence number. */
  public interface Events {
    ProducerRecord<String, String> event(int partition, long seq);
  }

  private final int partitions;
  private final KafkaProducer<String, String> producer;
  private final AtomicLongArray sent;
  private final AtomicLongArray acknowledged;
  private final AtomicLongArray highestOffset;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicBoolean producing = new AtomicBoolean(true);
  private final Thread thread;

  private StormLoad(String bootstrapServers, int partitions, Events events) {
    this.partitions = partitions;
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    sent = new AtomicLongArray(partitions);
    acknowledged = new AtomicLongArray(partitions);
    highestOffset = new AtomicLongArray(partitions);
    for (int p = 0; p < partitions; p++) {
      highestOffset.set(p, -1);
    }
    thread = new Thread(() -> send(events), "storm-producer");
  }

  /** Starts sending. */
  public static StormLoad start(String bootstrapServers, int partitions, Events events) {
    StormLoad load = new StormLoad(bootstrapServers, partitions, events);
    load.thread.start();
    return load;
  }

  private void send(Events events) {
    while (producing.get()) {
      for (int p = 0; p < partitions; p++) {
        int partition = p;
        producer.send(
            events.event(p, sent.getAndIncrement(p)),
            (metadata, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
                return;
              }
              acknowledged.incrementAndGet(partition);
              highestOffset.accumulateAndGet(partition, metadata.offset(), Math::max);
            });
      }
      try {
        Thread.sleep(25); // the load's pace, not a wait for a condition
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Stops sending and waits until every event sent is acknowledged; fails if one was not, or if any
   * partition's events are not at offsets 0 to n - 1. Returns the events sent.
   */
  public long stop() throws InterruptedException {
    producing.set(false);
    thread.join(Duration.ofSeconds(30).toMillis());
    producer.flush();
    if (failure.get() != null) {
      throw new AssertionError("the storm's producer failed", failure.get());
    }
    long total = 0;
    for (int p = 0; p < partitions; p++) {
      assertEquals(sent.get(p), acknowledged.get(p), "events acknowledged of partition " + p);
      assertEquals(sent.get(p) - 1, highestOffset.get(p), "highest offset of partition " + p);
      total += sent.get(p);
    }
    return total;
  }

  /** Events sent to the partition so far (after {@link #stop}: all of them). */
  public long sent(int partition) {
    return sent.get(partition);
  }

  /** Events sent so far, over all partitions. */
  public long sent() {
    long total = 0;
    for (int p = 0; p < partitions; p++) {
      total += sent.get(p);
    }
    return total;
  }

  /** The highest sequence number below {@code sent} that {@code key} of {@code keys} took. */
  public static long lastOfKey(long sent, int key, int keys) {
    long last = sent - 1 - Math.floorMod(sent - 1 - key, keys);
    return last >= 0 ? last : -1;
  }

  @Override
  public void close() throws InterruptedException {
    producing.set(false);
    thread.join(Duration.ofSeconds(10).toMillis());
    producer.close(Duration.ofSeconds(5));
  }
}
