package io.flotilla.events;

import io.flotilla.config.ConfigException;
import io.flotilla.config.WebhookConfig;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Which hosts a webhook may be sent to. Unless private targets are allowed
 * ({@code events.allowPrivateWebhookTargets}), a URL is refused when its host is, or resolves to,
 * a loopback address (127/8, ::1), a link-local one (169.254/16, fe80::/10: where clouds serve
 * instance metadata and credentials), a wildcard one (0.0.0.0/8, ::) or one of this node's own
 * interface addresses: the webhook API must not become a way to reach services behind the node.
 * Other private ranges (10/8, 192.168/16, fc00::/7...) are allowed: receivers usually live there.
 * A host name is refused if any of its addresses is refused. {@link #check} and {@link #atCreation}
 * block (DNS, interface list): call them on a worker thread.
 */
public final class WebhookTargets {
  /** Resolves host names; {@link InetAddress#getAllByName} in production. */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** Lists this node's own addresses; its network interfaces' in production. */
  @FunctionalInterface
  interface OwnAddresses {
    List<InetAddress> list() throws SocketException;
  }

  /**
   * The outcome of a check: the address to connect to (null when private targets are allowed: the
   * HTTP client resolves the name itself), or why the URL is refused.
   */
  public record Verdict(InetAddress address, String refusal) {
    public boolean refused() {
      return refusal != null;
    }
  }

  private static final long OWN_ADDRESSES_TTL_MILLIS = 10_000;

  private final boolean allowPrivate;
  private final Resolver resolver;
  private final OwnAddresses own;
  private List<InetAddress> ownCache = List.of();
  private long ownCachedAt = Long.MIN_VALUE;

  /** @param allowPrivate {@code events.allowPrivateWebhookTargets}: when true nothing is refused */
  public WebhookTargets(boolean allowPrivate) {
    this(allowPrivate, InetAddress::getAllByName, WebhookTargets::interfaceAddresses);
  }

  WebhookTargets(boolean allowPrivate, Resolver resolver, OwnAddresses own) {
    this.allowPrivate = allowPrivate;
    this.resolver = resolver;
    this.own = own;
  }

  public boolean allowsPrivate() {
    return allowPrivate;
  }

  /**
   * Why {@code address} may not be a webhook target ("a loopback address", "a link-local
   * address...", "a wildcard address", "one of this node's own addresses"), or null when it may.
   * An IPv4-compatible IPv6 address ({@code ::127.0.0.1}) is judged by its IPv4 address.
   */
  static String classify(InetAddress address, List<InetAddress> ownAddresses) {
    if (address instanceof java.net.Inet6Address v6 && v6.isIPv4CompatibleAddress() && !v6.isAnyLocalAddress()
        && !v6.isLoopbackAddress()) {
      try {
        byte[] v4 = Arrays.copyOfRange(v6.getAddress(), 12, 16);
        String inner = classify(InetAddress.getByAddress(v4), ownAddresses);
        if (inner != null) {
          return inner;
        }
      } catch (UnknownHostException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    byte[] b = address.getAddress();
    if (address.isLoopbackAddress()) {
      return "a loopback address";
    }
    if (address.isLinkLocalAddress()) {
      return "a link-local address (where cloud instance metadata is served)";
    }
    if (address.isAnyLocalAddress() || (b.length == 4 && b[0] == 0)) {
      return "a wildcard address";
    }
    for (InetAddress o : ownAddresses) {
      if (Arrays.equals(o.getAddress(), b)) {
        return "one of this node's own addresses";
      }
    }
    return null;
  }

  /**
   * Checks a URL at delivery time: resolves its host and refuses it when any address is a private
   * target, otherwise names the address to connect to (so that a DNS answer that changes between
   * this check and the connection cannot redirect it). Blocking.
   *
   * @throws UnknownHostException when the host does not resolve
   */
  public Verdict check(String url) throws UnknownHostException {
    if (allowPrivate) {
      return new Verdict(null, null);
    }
    String host = host(url);
    InetAddress[] addresses = resolver.resolve(host);
    List<InetAddress> mine = ownAddresses();
    for (InetAddress a : addresses) {
      String why = classify(a, mine);
      if (why != null) {
        return new Verdict(null, refusal(host, a, why));
      }
    }
    return new Verdict(addresses[0], null);
  }

  /**
   * Checks a URL when an endpoint is created or configured: the refusal, or null when it is
   * accepted. A host name that does not resolve (yet) is accepted: delivery checks it again. Blocking.
   */
  public String atCreation(String url) {
    try {
      return check(url).refusal();
    } catch (UnknownHostException e) {
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /**
   * Checks the endpoints of the configuration file at start-up; blocking.
   *
   * @throws ConfigException naming the first endpoint refused
   */
  public void checkConfigured(List<WebhookConfig> endpoints) {
    for (WebhookConfig w : endpoints) {
      String why = atCreation(w.url());
      if (why != null) {
        throw new ConfigException("events.webhooks[" + w.name() + "].url", why);
      }
    }
  }

  private static String refusal(String host, InetAddress a, String why) {
    String where = host.equals(a.getHostAddress()) ? host : host + " resolves to " + a.getHostAddress() + ", which";
    return "webhook target refused: " + where + " is " + why
        + " (set events.allowPrivateWebhookTargets: true to allow private targets)";
  }

  /** The host of an http(s) URL, without IPv6 brackets. */
  static String host(String url) {
    String host;
    try {
      host = URI.create(url).getHost();
    } catch (IllegalArgumentException e) {
      host = null;
    }
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("webhook URL has no host: " + url);
    }
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private synchronized List<InetAddress> ownAddresses() {
    long now = System.currentTimeMillis();
    if (ownCachedAt == Long.MIN_VALUE || now - ownCachedAt > OWN_ADDRESSES_TTL_MILLIS) {
      try {
        ownCache = List.copyOf(own.list());
      } catch (SocketException e) {
        System.getLogger(WebhookTargets.class.getName()).log(System.Logger.Level.WARNING,
            "cannot list this node's network interfaces; checking webhook targets against the last list", e);
      }
      ownCachedAt = now;
    }
    return ownCache;
  }

  private static List<InetAddress> interfaceAddresses() throws SocketException {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      out.addAll(Collections.list(n.getInetAddresses()));
    }
    return out;
  }
}
