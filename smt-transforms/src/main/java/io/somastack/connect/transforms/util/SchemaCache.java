package io.somastack.connect.transforms.util;

import java.util.function.Function;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;
import org.apache.kafka.connect.data.Schema;

/**
 * Rebuilt Struct schemas keyed by the input schema, as Kafka's own transforms keep them: a record
 * stream has few distinct schemas, and rebuilding one per record would also defeat converters that
 * cache by schema identity.
 */
public final class SchemaCache {

  private static final int SIZE = 16;

  private final Cache<Schema, Schema> cache = new SynchronizedCache<>(new LRUCache<>(SIZE));
  private final Function<Schema, Schema> build;

  public SchemaCache(Function<Schema, Schema> build) {
    this.build = build;
  }

  public Schema get(Schema input) {
    Schema cached = cache.get(input);
    if (cached == null) {
      cached = build.apply(input);
      cache.put(input, cached);
    }
    return cached;
  }
}
