package io.flotilla.config;

/** An invalid configuration; the message names the offending key. Fatal at start-up. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String key, String problem) {
    super("invalid configuration: " + key + ": " + problem);
  }
}
