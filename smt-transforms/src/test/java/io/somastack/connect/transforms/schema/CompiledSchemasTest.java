package io.somastack.connect.transforms.schema;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.JsonSchema;
import io.somastack.connect.testing.StackThreads;
import org.junit.jupiter.api.Test;

class CompiledSchemasTest {

  private static SchemaSource inline(int minLength) {
    return new SchemaSource("{\"type\":\"string\",\"minLength\":" + minLength + "}");
  }

  @Test
  void compilesEachSchemaOnce() {
    JsonSchema first = CompiledSchemas.get(inline(1));
    assertSame(first, CompiledSchemas.get(inline(1)));
  }

  /**
   * Every distinct schema text that is validated (Connect's REST validate call compiles it) or
   * configured is cached; a worker that lives for months, behind a UI that validates as a schema is
   * edited, must not keep every version it ever saw.
   */
  @Test
  void keepsABoundedNumberOfSchemas() {
    for (int i = 0; i < CompiledSchemas.CACHE_SIZE * 2; i++) {
      CompiledSchemas.get(inline(1000 + i));
    }
    assertTrue(
        CompiledSchemas.cachedCount() <= CompiledSchemas.CACHE_SIZE,
        CompiledSchemas.cachedCount() + " schemas cached");
  }

  /**
   * However deep the parser lets a schema be, a thread with less stack may not walk it: running out
   * of stack while compiling is an explained IllegalArgumentException (which the config validators
   * report) rather than a StackOverflowError escaping Connect's validate call as HTTP 500.
   */
  @Test
  void aSchemaTooDeepForTheThreadsStackFailsWithAReason() throws Exception {
    CompiledSchemas.get(inline(1)); // the meta-schema, loaded with a full stack
    int depth = SchemaSource.MAX_DEPTH - 2;
    SchemaSource deep = new SchemaSource("{\"not\":".repeat(depth) + "{}" + "}".repeat(depth));
    Throwable failure = StackThreads.thrownOn(128 * 1024, () -> CompiledSchemas.get(deep));
    assertInstanceOf(IllegalArgumentException.class, failure);
    assertTrue(failure.getMessage().contains("ran out of stack"), failure.getMessage());
  }
}
