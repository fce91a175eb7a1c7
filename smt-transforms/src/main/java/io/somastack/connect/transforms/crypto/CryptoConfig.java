package io.somastack.connect.transforms.crypto;

import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.util.Configs;
import java.util.List;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The options {@code EncryptFields} and {@code DecryptFields} share, defined once so both read
 * keys, paths and the tenant binding the same way.
 */
public final class CryptoConfig {

  public static final String FIELDS_CONFIG = "fields";
  public static final String KEYS_CONFIG = "keys";
  public static final String TENANT_FIELD_CONFIG = "tenant.field";

  private CryptoConfig() {}

  /** Adds the shared options to a ConfigDef. */
  public static ConfigDef define(ConfigDef def) {
    return def.define(
            FIELDS_CONFIG,
            ConfigDef.Type.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            Configs.disjointFieldPaths(),
            ConfigDef.Importance.HIGH,
            "Paths of the fields to encrypt or decrypt, e.g. payload.content,metadata.user_email. "
                + "Missing and null fields are left alone; a path must not lie inside another. A "
                + "path through a value that is not an object (a list, a scalar, a Struct map or "
                + "array), or into a map whose keys are not text (a path cannot name a number "
                + "key), fails the record instead of leaving the field in the clear.")
        .define(
            KEYS_CONFIG,
            ConfigDef.Type.PASSWORD,
            ConfigDef.NO_DEFAULT_VALUE,
            keyList(),
            ConfigDef.Importance.HIGH,
            "AES-256 keys as id:version:base64key entries separated by commas (32-byte keys, "
                + "standard or URL-safe base64). Supply it through a config provider, e.g. "
                + "${file:/etc/soma/keys.properties:field.keys} or ${env:SOMA_ENCRYPTION_KEYS}, "
                + "declared on the worker (config.providers; the Docker and Strimzi workers declare env only, the quickstart's env and file). "
                + "Ciphertexts name their key id and version, so old versions stay listed until "
                + "no data needs them. Rotate by adding a higher version before the current one "
                + "has encrypted 2^32 values.")
        .define(
            TENANT_FIELD_CONFIG,
            ConfigDef.Type.STRING,
            "tenant_id",
            Configs.optionalFieldPath(),
            ConfigDef.Importance.HIGH,
            "Path of the tenant field (a string, number or boolean), read from the same side "
                + "(key or value) as the fields. Its value is bound into every ciphertext, so a "
                + "ciphertext copied to another tenant's record fails to decrypt; a record "
                + "without it fails, and so does encrypting one with an object there (decrypting "
                + "reads an object as earlier versions bound it, so their data still opens). It "
                + "must not lie in or contain an encrypted field. Empty binds no tenant "
                + "(ciphertexts are still bound to their field path).",
            null,
            -1,
            ConfigDef.Width.NONE,
            TENANT_FIELD_CONFIG,
            Configs.checks(() -> def, config -> tenantField(config, fields(config))));
  }

  /** Checks the key list when the config is validated, without echoing it. */
  private static ConfigDef.Validator keyList() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        try {
          Keyring.parse(value == null ? null : ((Password) value).value());
        } catch (IllegalArgumentException e) {
          throw new ConfigException(name, "[hidden]", e.getMessage());
        }
      }

      @Override
      public String toString() {
        return "id:version:base64key entries, 32-byte keys";
      }
    };
  }

  public static List<FieldPath> fields(AbstractConfig config) {
    return Configs.paths(config, FIELDS_CONFIG);
  }

  public static Keyring keyring(AbstractConfig config) {
    Password keys = config.getPassword(KEYS_CONFIG);
    try {
      return Keyring.parse(keys == null ? null : keys.value());
    } catch (IllegalArgumentException e) {
      // the value is a secret: name the option, never echo it
      throw new ConfigException(KEYS_CONFIG, "[hidden]", e.getMessage());
    }
  }

  /**
   * The tenant path, or null when unbound; it must neither lie in nor contain a transformed field,
   * since decryption must read the tenant exactly as encryption did.
   */
  public static FieldPath tenantField(AbstractConfig config, List<FieldPath> fields) {
    FieldPath tenant = Configs.optionalPath(config, TENANT_FIELD_CONFIG);
    if (tenant != null && fields.stream().anyMatch(field -> within(tenant, field))) {
      throw new ConfigException(
          TENANT_FIELD_CONFIG,
          tenant.toString(),
          "the tenant field cannot be encrypted: decryption needs to read it");
    }
    if (tenant != null && fields.stream().anyMatch(field -> within(field, tenant))) {
      throw new ConfigException(
          TENANT_FIELD_CONFIG,
          tenant.toString(),
          "the tenant field cannot contain an encrypted field: decryption needs to read it as "
              + "it was before encryption");
    }
    return tenant;
  }

  private static boolean within(FieldPath inner, FieldPath outer) {
    List<String> a = inner.segments();
    List<String> b = outer.segments();
    return a.size() >= b.size() && a.subList(0, b.size()).equals(b);
  }
}
