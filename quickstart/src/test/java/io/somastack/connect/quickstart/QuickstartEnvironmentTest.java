package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ${env:...} values connector-configs/ read that the quickstart supplies when the environment
 * lacks them. Each is defaulted on its own: with SOMA_ENCRYPTION_KEYS exported but no key id,
 * memory-kv got the literal ${env:SOMA_ENCRYPTION_KEY_ID}, which EncryptFields refuses; without
 * SOMA_QDRANT_API_KEY the literal ${env:SOMA_QDRANT_API_KEY} was sent to Qdrant as the api-key.
 */
class QuickstartEnvironmentTest {

  private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);

  @Test
  void keysWithoutAKeyIdEncryptWithTheirOnlyId() {
    Map<String, String> defaults =
        Quickstart.environmentDefaults(
            Map.of("SOMA_ENCRYPTION_KEYS", "acme:1:" + KEY + ",acme:2:" + KEY));

    assertEquals("acme", defaults.get("SOMA_ENCRYPTION_KEY_ID"));
    assertFalse(defaults.containsKey("SOMA_ENCRYPTION_KEYS"), "the user's keys are kept");
  }

  @Test
  void keysOfSeveralIdsWithoutAKeyIdAreRefusedNamingTheVariable() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Quickstart.environmentDefaults(
                    Map.of("SOMA_ENCRYPTION_KEYS", "a:1:" + KEY + ",b:1:" + KEY)));

    assertTrue(e.getMessage().contains("export SOMA_ENCRYPTION_KEY_ID"), e.getMessage());
    assertFalse(e.getMessage().contains(KEY), "never a key in a message");
  }

  @Test
  void aKeyIdWithoutKeysGetsAFreshKeyUnderThatId() {
    Map<String, String> defaults =
        Quickstart.environmentDefaults(Map.of("SOMA_ENCRYPTION_KEY_ID", "mine"));

    assertTrue(defaults.get("SOMA_ENCRYPTION_KEYS").startsWith("mine:1:"), "a key of id mine");
    assertEquals(
        32, Base64.getDecoder().decode(defaults.get("SOMA_ENCRYPTION_KEYS").substring(7)).length);
    assertFalse(defaults.containsKey("SOMA_ENCRYPTION_KEY_ID"), "the user's id is kept");
  }

  @Test
  void nothingExportedGetsAFreshKeyAndNoQdrantApiKey() {
    Map<String, String> defaults = Quickstart.environmentDefaults(Map.of());

    assertEquals("memory", defaults.get("SOMA_ENCRYPTION_KEY_ID"));
    assertTrue(defaults.get("SOMA_ENCRYPTION_KEYS").startsWith("memory:1:"));
    assertEquals("", defaults.get("SOMA_QDRANT_API_KEY"));
    // the PostgreSQL pipelines read connection.sslrootcert from it: unset, the literal
    // ${env:SOMA_PG_SSLROOTCERT} would contradict a SOMA_PG_URL's sslrootcert=
    assertEquals("", defaults.get("SOMA_PG_SSLROOTCERT"));
  }

  @Test
  void everythingExportedIsLeftAlone() {
    Map<String, String> env =
        Map.of(
            "SOMA_ENCRYPTION_KEYS", "a:1:" + KEY,
            "SOMA_ENCRYPTION_KEY_ID", "a",
            "SOMA_QDRANT_API_KEY", "secret",
            "SOMA_PG_SSLROOTCERT", "/etc/pg/root.crt");

    assertEquals(Map.of(), Quickstart.environmentDefaults(env));
  }

  @Test
  void theRunStopsBeforeAnythingStartsNamingTheMissingVariable(@TempDir Path work)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Map<String, String> env = Map.of("SOMA_ENCRYPTION_KEYS", "a:1:" + KEY + ",b:1:" + KEY);

    int status =
        Quickstart.run(new String[] {"--exit", "--rest-port", freePort()}, out, env, work, work);

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(1, status, output);
    assertTrue(output.contains("SOMA_ENCRYPTION_KEY_ID"), output);
    assertFalse(output.contains("PostgreSQL"), output);
  }

  private static String freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return String.valueOf(socket.getLocalPort());
    }
  }
}
