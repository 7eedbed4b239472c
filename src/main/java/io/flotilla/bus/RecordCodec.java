package io.flotilla.bus;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The one codec family for bus message records: passed by reference within a node (records are
 * immutable), JSON on the wire between nodes. {@link #registerAll} must run on every node before
 * any verticle is deployed.
 */
public final class RecordCodec<T> implements MessageCodec<T, T> {
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private final Class<T> type;

  public RecordCodec(Class<T> type) {
    this.type = type;
  }

  @Override
  public void encodeToWire(Buffer buffer, T value) {
    try {
      byte[] bytes = JSON.writeValueAsBytes(value);
      buffer.appendInt(bytes.length).appendBytes(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int len = buffer.getInt(pos);
    try {
      return JSON.readValue(buffer.getBytes(pos + 4, pos + 4 + len), type);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public T transform(T value) {
    return value;
  }

  @Override
  public String name() {
    return "flotilla." + type.getName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  /** Registers a default codec for every request and reply record of every address. */
  public static void registerAll(EventBus bus) {
    Set<Class<?>> seen = new HashSet<>();
    for (Address<?, ?> a : Addresses.ALL) {
      register(bus, a.request(), seen);
      register(bus, a.reply(), seen);
    }
  }

  private static <X> void register(EventBus bus, Class<X> type, Set<Class<?>> seen) {
    if (seen.add(type)) {
      bus.registerDefaultCodec(type, new RecordCodec<>(type));
    }
  }
}
