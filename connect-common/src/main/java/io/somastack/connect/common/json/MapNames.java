package io.somastack.connect.common.json;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The check that a map's keys are distinct as names: two keys of one text (1 and "1", a null key
 * and "null") would be one JSON member or one payload field, an entry lost, so such a map is
 * refused ({@link ConnectJson#duplicateName()}). Distinct Strings are distinct names, so a map of
 * String keys only is not checked and no set is made for it: {@code seen} is then null.
 *
 * <pre>{@code
 * Set<String> seen = MapNames.seen(map);
 * for (Map.Entry<?, ?> entry : map.entrySet()) {
 *   String name = ConnectJson.fieldName(entry.getKey(), keySchema);
 *   MapNames.add(seen, name);
 *   ...
 * }
 * }</pre>
 */
public final class MapNames {

  private MapNames() {}

  /** A set for the names of the map's keys, or null when every key is a String. */
  public static Set<String> seen(Map<?, ?> map) {
    return textKeysOnly(map) ? null : new HashSet<>(map.size() * 2);
  }

  /**
   * Records a key's name in {@code seen} (from {@link #seen}; null checks nothing), refusing one
   * already there.
   *
   * @throws org.apache.kafka.connect.errors.DataException {@link ConnectJson#duplicateName()}
   */
  public static void add(Set<String> seen, String name) {
    if (seen != null && !seen.add(name)) {
      throw ConnectJson.duplicateName();
    }
  }

  /** Whether every key is a String. */
  static boolean textKeysOnly(Map<?, ?> map) {
    for (Object key : map.keySet()) {
      if (!(key instanceof String)) {
        return false;
      }
    }
    return true;
  }
}
