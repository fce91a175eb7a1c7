package io.somastack.connect.transforms.schema;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.JsonSchema;
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
}
