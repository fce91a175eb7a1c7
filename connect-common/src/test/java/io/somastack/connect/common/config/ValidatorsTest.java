package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class ValidatorsTest {

  /**
   * A libpq-style URL is the usual mistake, and it often carries the password: the message, which
   * reaches logs and the REST validate answer, names the option but never repeats the URL.
   */
  @Test
  void aWrongDatabaseUrlIsNamedButNeverEchoed() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                Validators.postgresUrl()
                    .ensureValid("connection.url", "postgresql://soma:s3cret@db:5432/soma"));
    assertTrue(e.getMessage().contains("connection.url"), e.getMessage());
    assertTrue(e.getMessage().contains("jdbc:postgresql://"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
  }
}
