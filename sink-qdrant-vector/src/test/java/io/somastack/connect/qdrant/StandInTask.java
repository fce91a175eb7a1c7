package io.somastack.connect.qdrant;

import io.qdrant.client.QdrantClient;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The sink task run by hand against the gRPC stand-in, as the task tests drive it: the stand-in, a
 * client reading what it holds, the task's context (assigned {@link #PARTITION}, with a dead letter
 * queue), and the offsets of the records a test makes. Held in a {@code @RegisterExtension} field:
 * the stand-in starts with the test instance, and after each test the task is stopped and the
 * reader and the stand-in closed.
 */
final class StandInTask implements AfterEachCallback {

  static final TopicPartition PARTITION = new TopicPartition("memory.events", 0);

  final QdrantGrpcStandIn qdrant = QdrantGrpcStandIn.startOnFreePort();
  final QdrantClient reader = QdrantEndpoint.clientFor(qdrant.host(), qdrant.port());
  final HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);

  private final String[] classDefaults;
  private QdrantVectorSinkTask task;
  private long offset;

  /** With the test class's own settings (key, value, ...) over the common ones. */
  StandInTask(String... classDefaults) {
    this.classDefaults = classDefaults;
  }

  /**
   * The task's configuration: the stand-in's url, a 2 s deadline, vectors of size 8 and the
   * collection "memories", then the class's settings, then {@code keyValues} (key, value, ...).
   */
  Map<String, String> props(String... keyValues) {
    Map<String, String> props = new HashMap<>();
    props.put("qdrant.url", qdrant.url());
    props.put("qdrant.timeout.ms", "2000");
    props.put("vector.size", "8");
    props.put("collection.name", "memories");
    putAll(props, classDefaults);
    putAll(props, keyValues);
    return props;
  }

  private static void putAll(Map<String, String> props, String[] keyValues) {
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
  }

  /** A task started with {@link #props}, reading the system's clock. */
  QdrantVectorSinkTask start(String... keyValues) {
    return start(new QdrantVectorSinkTask(), keyValues);
  }

  /** A task started with {@link #props}, reading time (in nanoseconds) from {@code nanoTime}. */
  QdrantVectorSinkTask start(LongSupplier nanoTime, String... keyValues) {
    return start(new QdrantVectorSinkTask(nanoTime), keyValues);
  }

  private QdrantVectorSinkTask start(QdrantVectorSinkTask started, String... keyValues) {
    task = started; // stopped after the test even if start fails
    task.initialize(context);
    task.start(props(keyValues));
    return task;
  }

  /** The task, which the test now stops itself: it is not stopped again after the test. */
  QdrantVectorSinkTask stoppedByTheTest() {
    QdrantVectorSinkTask stopping = task;
    task = null;
    return stopping;
  }

  /** A record of {@link #PARTITION} at the next offset, without schemas. */
  SinkRecord record(Object key, Object value) {
    return record(null, key, null, value);
  }

  /** A record of {@link #PARTITION} at the next offset. */
  SinkRecord record(Schema keySchema, Object key, Schema valueSchema, Object value) {
    return new SinkRecord(
        PARTITION.topic(), PARTITION.partition(), keySchema, key, valueSchema, value, offset++);
  }

  /** The next record's offset: where Connect has consumed {@link #PARTITION} up to. */
  long offset() {
    return offset;
  }

  /** Records up to {@code next} are taken as consumed but never put (an SMT filtered them). */
  void skipTo(long next) {
    offset = next;
  }

  /** What the task commits once Connect has consumed {@link #PARTITION} up to {@link #offset}. */
  Map<TopicPartition, OffsetAndMetadata> preCommit() {
    return task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(offset)));
  }

  @Override
  public void afterEach(ExtensionContext extension) {
    if (task != null) {
      task.stop();
    }
    reader.close();
    qdrant.close();
  }
}
