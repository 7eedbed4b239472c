package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ConfigException;
import io.flotilla.config.WebhookConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebhookTargetsTest {
  private static final List<InetAddress> OWN = List.of(ip("10.1.2.3"), ip("2001:db8::7"));

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "127.0.0.1        | loopback",
      "127.10.20.30     | loopback",
      "::1              | loopback",
      "::ffff:127.0.0.1 | loopback",
      "::127.0.0.1      | loopback",
      "169.254.169.254  | link-local",
      "169.254.0.1      | link-local",
      "fe80::1          | link-local",
      "febf::1          | link-local",
      "0.0.0.0          | wildcard",
      "0.1.2.3          | wildcard",
      "::               | wildcard",
      "10.1.2.3         | own",
      "2001:db8::7      | own",
      "10.1.2.4         | ",
      "192.168.1.10     | ",
      "172.16.0.1       | ",
      "8.8.8.8          | ",
      "169.253.255.255  | ",
      "169.255.0.1      | ",
      "fec0::1          | ",
      "fd00::1          | ",
      "2001:db8::8      | ",
      "128.0.0.1        | ",
  })
  void classifiesAddresses(String address, String expected) {
    String why = WebhookTargets.classify(ip(address), OWN);
    if (expected == null) {
      assertNull(why, address);
    } else {
      assertTrue(why != null && why.contains(expected), address + ": " + why);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "http://127.0.0.1:8080/hook         | 127.0.0.1",
      "https://[::1]/hook                 | ::1",
      "http://user@example.com:81/x?y=1   | example.com",
      "https://Hooks.Example.COM          | Hooks.Example.COM",
  })
  void readsTheHost(String url, String host) {
    assertEquals(host, WebhookTargets.host(url));
  }

  @Test
  void aNameIsRefusedWhenAnyOfItsAddressesIsPrivate() throws Exception {
    WebhookTargets targets = new WebhookTargets(false,
        host -> new InetAddress[] {ip("93.184.216.34"), ip("127.0.0.1")}, () -> OWN);
    WebhookTargets.Verdict v = targets.check("https://rebind.example/hook");
    assertTrue(v.refused());
    assertTrue(v.refusal().contains("rebind.example resolves to 127.0.0.1"), v.refusal());
    assertTrue(v.refusal().contains("events.allowPrivateWebhookTargets"), v.refusal());
  }

  @Test
  void aPublicNameIsPinnedToTheAddressChecked() throws Exception {
    WebhookTargets targets = new WebhookTargets(false, host -> new InetAddress[] {ip("93.184.216.34")}, () -> OWN);
    WebhookTargets.Verdict v = targets.check("https://hooks.example/hook");
    assertNull(v.refusal());
    assertEquals(ip("93.184.216.34"), v.address());
  }

  @Test
  void theAnswerAtDeliveryIsJudgedAgain() throws Exception {
    AtomicReference<String> answer = new AtomicReference<>("93.184.216.34");
    WebhookTargets targets = new WebhookTargets(false, host -> new InetAddress[] {ip(answer.get())}, () -> OWN);
    assertNull(targets.atCreation("https://flip.example/hook"));
    answer.set("169.254.169.254"); // DNS rebinding: the name now points at the metadata service
    assertTrue(targets.check("https://flip.example/hook").refused());
  }

  @Test
  void allowingPrivateTargetsChecksNothing() throws Exception {
    WebhookTargets targets = new WebhookTargets(true, host -> {
      throw new AssertionError("no lookup when private targets are allowed");
    }, () -> OWN);
    WebhookTargets.Verdict v = targets.check("http://127.0.0.1:1/hook");
    assertNull(v.refusal());
    assertNull(v.address());
  }

  @Test
  void anUnresolvableNameIsAcceptedAtCreationAndFailsAtDelivery() {
    WebhookTargets targets = new WebhookTargets(false, host -> {
      throw new UnknownHostException(host);
    }, () -> OWN);
    assertNull(targets.atCreation("https://not-yet.example/hook"));
    assertThrows(UnknownHostException.class, () -> targets.check("https://not-yet.example/hook"));
  }

  @Test
  void configuredEndpointsAreCheckedAtStart() {
    WebhookTargets targets = new WebhookTargets(false, InetAddress::getAllByName, () -> OWN);
    WebhookConfig ok = endpoint("public", "https://93.184.216.34/hook");
    WebhookConfig metadata = endpoint("metadata", "http://169.254.169.254/latest/meta-data/");
    targets.checkConfigured(List.of(ok));
    ConfigException e = assertThrows(ConfigException.class, () -> targets.checkConfigured(List.of(ok, metadata)));
    assertTrue(e.getMessage().contains("events.webhooks[metadata].url"), e.getMessage());
    assertTrue(e.getMessage().contains("link-local"), e.getMessage());
    new WebhookTargets(true).checkConfigured(List.of(metadata));
  }

  @Test
  void theNodesOwnInterfacesAreRefused() throws Exception {
    WebhookTargets targets = new WebhookTargets(false);
    for (var n : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : java.util.Collections.list(n.getInetAddresses())) {
        String literal = a.getHostAddress().replaceAll("%.*$", "");
        String url = "http://" + (literal.contains(":") ? "[" + literal + "]" : literal) + "/hook";
        assertTrue(targets.check(url).refused(), url);
      }
    }
  }

  private static WebhookConfig endpoint(String name, String url) {
    return new WebhookConfig(name, url, Map.of(), null, null, null, 0, null, null, null, null, null, null, 0, false);
  }

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
