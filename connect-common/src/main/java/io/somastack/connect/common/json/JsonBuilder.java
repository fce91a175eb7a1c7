package io.somastack.connect.common.json;

import java.math.BigDecimal;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Makes one representation of JSON values (a Jackson tree, a protobuf message, ...) for {@link
 * ConnectJson}, which decides what JSON a Connect value is. Keeping that decision in one walker
 * means every representation agrees on logical types, bytes and numbers.
 *
 * @param <T> the representation of one JSON value
 */
public interface JsonBuilder<T> {

  T nullValue();

  T text(String value);

  T bool(boolean value);

  T integer(long value);

  /** A finite double: the walker has already refused NaN and the infinities. */
  T floating(double value);

  T decimal(BigDecimal value);

  /** An empty object of about {@code size} fields, filled with {@link Container#add}. */
  Container<T> object(int size);

  /** An empty array of {@code size} items, filled in order with {@link Container#add}. */
  Container<T> array(int size);

  /** An object or array being filled. */
  interface Container<T> {

    /** Adds a field (the name is null for an array's item). */
    void add(String name, T value);

    T build();

    /** A container that adds with {@code add} and is {@code built} when full. */
    static <T> Container<T> of(BiConsumer<String, T> add, Supplier<T> built) {
      return new Container<>() {
        @Override
        public void add(String name, T value) {
          add.accept(name, value);
        }

        @Override
        public T build() {
          return built.get();
        }
      };
    }
  }
}
