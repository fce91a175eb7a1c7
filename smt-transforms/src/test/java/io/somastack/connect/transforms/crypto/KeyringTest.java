package io.somastack.connect.transforms.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.TestRecords;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class KeyringTest {

  @Test
  void picksTheHighestVersionForEncryption() {
    Keyring keyring =
        Keyring.parse(
            "pii:1:"
                + TestRecords.key(1)
                + ", pii:3:"
                + TestRecords.key(3)
                + ",pii:2:"
                + TestRecords.key(2));
    assertEquals(3, keyring.current("pii").version());
    assertEquals(1, keyring.find("pii", 1).version());
    assertNull(keyring.find("pii", 4));
    assertNull(keyring.find("other", 1));
    assertTrue(keyring.contains("pii"));
  }

  @Test
  void acceptsUrlSafeBase64() {
    byte[] key = new byte[32];
    key[0] = (byte) 0xfb;
    key[1] = (byte) 0xff;
    String urlSafe = Base64.getUrlEncoder().encodeToString(key);
    assertTrue(urlSafe.contains("-") || urlSafe.contains("_"));
    assertEquals(1, Keyring.parse("k:1:" + urlSafe).current("k").version());
  }

  @Test
  void rejectsBadEntriesWithoutEchoingKeyMaterial() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Keyring.parse("k:1:" + shortKey));
    assertTrue(e.getMessage().contains("32 bytes"), e.getMessage());
    assertFalse(e.getMessage().contains(shortKey));
    assertThrows(IllegalArgumentException.class, () -> Keyring.parse(""));
    assertThrows(IllegalArgumentException.class, () -> Keyring.parse("k:" + TestRecords.key(1)));
    assertThrows(IllegalArgumentException.class, () -> Keyring.parse("k:0:" + TestRecords.key(1)));
    assertThrows(
        IllegalArgumentException.class, () -> Keyring.parse("k k:1:" + TestRecords.key(1)));
    assertThrows(IllegalArgumentException.class, () -> Keyring.parse("k:1:not base64!"));
    assertThrows(
        IllegalArgumentException.class,
        () -> Keyring.parse("k:1:" + TestRecords.key(1) + ",k:1:" + TestRecords.key(2)));
  }
}
