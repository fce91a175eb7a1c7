package io.somastack.connect.qdrant.mapping;

/**
 * Qdrant's rule for collection names, {@link PointMapper#isCollectionName}, for the configuration's
 * checks: validate refuses a fixed name, or a template's fixed text, that the mapper would refuse
 * for every record.
 */
public final class CollectionNames {

  /** The characters Qdrant refuses in a collection name, as a message lists them. */
  public static final String REFUSED = "<>:\"/\\|?*, NUL and U+001F";

  private CollectionNames() {}

  /** Whether Qdrant takes {@code name} as a collection name. */
  public static boolean isCollectionName(String name) {
    return PointMapper.isCollectionName(name);
  }
}
