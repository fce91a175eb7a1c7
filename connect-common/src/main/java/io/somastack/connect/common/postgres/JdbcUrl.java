package io.somastack.connect.common.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;
import org.postgresql.PGProperty;

/**
 * The parts of a PostgreSQL JDBC URL ({@code jdbc:postgresql://hosts/db?params}) the plugins check:
 * whether it carries user info, its host list, and its query's parameters, split once. It keeps no
 * copy of the URL's text but those parts and its {@code toString()} shows none: a URL may carry a
 * password, and whatever is made of it must never repeat it.
 */
public final class JdbcUrl {

  private static final String PREFIX = "jdbc:postgresql:";
  private static final String WITH_HOSTS = PREFIX + "//";

  /** A query parameter as written: its name not decoded, its value null when there is no '='. */
  private record Parameter(String name, String value) {}

  private final boolean userInfo;
  private final boolean databaseDecodes;
  private final String hostsProblem;
  private final String hostList;
  private final List<Parameter> parameters;

  private JdbcUrl(
      boolean userInfo,
      boolean databaseDecodes,
      String hostsProblem,
      String hostList,
      List<Parameter> parameters) {
    this.userInfo = userInfo;
    this.databaseDecodes = databaseDecodes;
    this.hostsProblem = hostsProblem;
    this.hostList = hostList;
    this.parameters = parameters;
  }

  /** Splits {@code url}: everything after the first '?' is the query, its pairs split on '&'. */
  public static JdbcUrl parse(String url) {
    Objects.requireNonNull(url, "url");
    int query = url.indexOf('?');
    String beforeQuery = query < 0 ? url : url.substring(0, query);
    // jdbc:postgresql:db has no host part
    boolean userInfo =
        beforeQuery.startsWith(WITH_HOSTS) && beforeQuery.indexOf('@', WITH_HOSTS.length()) >= 0;
    List<Parameter> parameters = new ArrayList<>();
    if (query >= 0) {
      for (String pair : url.substring(query + 1).split("&")) {
        int eq = pair.indexOf('=');
        parameters.add(
            eq < 0
                ? new Parameter(pair, null)
                : new Parameter(pair.substring(0, eq), pair.substring(eq + 1)));
      }
    }
    return new JdbcUrl(
        userInfo,
        decodes(database(beforeQuery)),
        hostsProblem(beforeQuery),
        userInfo ? null : hostList(beforeQuery),
        List.copyOf(parameters));
  }

  /** What is between "//" and the next '/' (or the end), or null for jdbc:postgresql:db. */
  private static String hostList(String beforeQuery) {
    if (!beforeQuery.startsWith(WITH_HOSTS)) {
      return null;
    }
    int slash = beforeQuery.indexOf('/', WITH_HOSTS.length());
    return beforeQuery.substring(WITH_HOSTS.length(), slash < 0 ? beforeQuery.length() : slash);
  }

  /**
   * What pgjdbc refuses in the host list, or null: no / after it (but jdbc:postgresql:// alone), a
   * second / after it, or a port that is not a number from 1 to 65535 (host:, host:port5432). It
   * refuses the URL at connect, and logs it whole, query and all, at WARNING.
   */
  private static String hostsProblem(String beforeQuery) {
    if (!beforeQuery.startsWith(WITH_HOSTS) || beforeQuery.equals(WITH_HOSTS)) {
      return null;
    }
    int slash = beforeQuery.indexOf('/', WITH_HOSTS.length());
    if (slash < 0) {
      return "has no / after its hosts (jdbc:postgresql://host:port/database)";
    }
    if (beforeQuery.indexOf('/', slash + 1) >= 0) {
      return "has a / in its database name (write it %2F)";
    }
    for (String host : beforeQuery.substring(WITH_HOSTS.length(), slash).split(",", -1)) {
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && colon > host.lastIndexOf(']') && !isPort(host.substring(colon + 1))) {
        return "has a port that is not a number from 1 to 65535";
      }
    }
    return null;
  }

  /** A port as pgjdbc reads one: Integer.parseInt's number (a + may lead), from 1 to 65535. */
  private static boolean isPort(String text) {
    try {
      int port = Integer.parseInt(text);
      return port >= 1 && port <= 65535;
    } catch (NumberFormatException notANumber) {
      return false;
    }
  }

  /** The database name as written: after the host list's '/', or all of jdbc:postgresql:db. */
  private static String database(String beforeQuery) {
    if (beforeQuery.startsWith(WITH_HOSTS)) {
      int slash = beforeQuery.indexOf('/', WITH_HOSTS.length());
      return slash < 0 ? "" : beforeQuery.substring(slash + 1);
    }
    return beforeQuery.startsWith(PREFIX) ? beforeQuery.substring(PREFIX.length()) : "";
  }

  /**
   * An @ before the query, as in libpq's user:password@host: pgjdbc cannot parse it. Not just in
   * the host list: a password with a / in it would end that early. A database name with an @ in it
   * is written %40, which pgjdbc decodes.
   */
  public boolean hasUserInfo() {
    return userInfo;
  }

  /**
   * A query parameter as pgjdbc reads it, percent-decoded, or null: names match exactly (pgjdbc
   * ignores SSLMODE) and the last of repeated parameters wins (sslmode=verify-full&sslmode=disable
   * is disable to pgjdbc); a parameter without '=' is the empty string.
   *
   * @throws IllegalArgumentException when the value is not correctly percent-encoded; its message
   *     names the parameter only, never the value
   */
  public String parameter(String name) {
    String value = null;
    for (Parameter parameter : parameters) {
      if (parameter.name().equals(name)) {
        value = parameter.value() == null ? "" : decoded(parameter.value(), name);
      }
    }
    return value;
  }

  /**
   * Whether a parameter is named {@code name} in any case or percent-encoding: pgjdbc reads only
   * "password", but Password= or pass%77ord= is a password all the same, for a check that must find
   * what the URL holds rather than what the driver uses. A name not correctly encoded is compared
   * as written.
   */
  public boolean hasParameterLike(String name) {
    return parameters.stream().anyMatch(parameter -> namedLike(parameter, name));
  }

  private static boolean namedLike(Parameter parameter, String name) {
    String decoded;
    try {
      decoded = URLDecoder.decode(parameter.name(), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException badlyEncoded) {
      decoded = parameter.name();
    }
    return decoded.equalsIgnoreCase(name);
  }

  /**
   * The host list as written ({@code h1:5433,h2,[::1]}; "" in {@code jdbc:postgresql:///db}), or
   * null when the URL has none ({@code jdbc:postgresql:db}, which pgjdbc reads as localhost:5432)
   * or carries user info ({@link #hasUserInfo}), which may hold a password. Checked by {@link
   * #unparsable}, not here.
   */
  public String hostList() {
    return hostList;
  }

  /**
   * The query's parameters as written (not decoded), joined by '&', without those named like one of
   * {@code names} in the sense of {@link #hasParameterLike} (any case or percent-encoding) and
   * without empty ones; "" when none is left. For a URL made from this one without its credentials
   * (user, password, sslpassword), which go as connection properties instead.
   */
  public String queryWithout(String... names) {
    StringJoiner query = new StringJoiner("&");
    for (Parameter parameter : parameters) {
      if (parameter.name().isEmpty() && parameter.value() == null) {
        continue;
      }
      if (Arrays.stream(names).noneMatch(name -> namedLike(parameter, name))) {
        query.add(
            parameter.value() == null
                ? parameter.name()
                : parameter.name() + "=" + parameter.value());
      }
    }
    return query.toString();
  }

  /**
   * Why pgjdbc cannot parse the URL, said without its text ("has no / after its hosts", "has a
   * value of its sslmode parameter that is not correctly percent-encoded"), or null. pgjdbc refuses
   * such a URL at connect, quoting it whole.
   */
  public String unparsable() {
    if (hostsProblem != null) {
      return hostsProblem;
    }
    String part = badlyEncodedPart();
    return part == null
        ? null
        : "has "
            + part
            + " that is not correctly percent-encoded (a % must start two hex digits; %25 is a %"
            + " itself)";
  }

  /**
   * The part pgjdbc percent-decodes (the database name, a parameter's value) that is not correctly
   * encoded, or null. A parameter is named only when pgjdbc knows its name: in a value holding an
   * unencoded & (a password's), what follows would read as a name, and is not repeated.
   */
  private String badlyEncodedPart() {
    if (!databaseDecodes) {
      return "a database name";
    }
    for (Parameter parameter : parameters) {
      if (parameter.value() != null && !decodes(parameter.value())) {
        return PGProperty.forName(parameter.name()) != null
            ? "a value of its " + parameter.name() + " parameter"
            : "a parameter value";
      }
    }
    return null;
  }

  private static boolean decodes(String text) {
    try {
      URLDecoder.decode(text, StandardCharsets.UTF_8);
      return true;
    } catch (IllegalArgumentException badlyEncoded) {
      return false;
    }
  }

  private static String decoded(String value, String name) {
    try {
      return URLDecoder.decode(value, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      // URLDecoder's own message quotes the value
      throw new IllegalArgumentException(
          "its " + name + " parameter is not correctly percent-encoded");
    }
  }

  @Override
  public String toString() {
    return "JdbcUrl[not shown: it may hold credentials]";
  }
}
