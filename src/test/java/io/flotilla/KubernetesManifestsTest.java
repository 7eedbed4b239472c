package io.flotilla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.FlotillaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The Kubernetes example in {@code deploy/kubernetes}: every manifest parses, and the StatefulSet,
 * its Services and budget agree with each other, with the node's configuration (every literal
 * {@code FLOTILLA_*} value passes the node's own validation) and with the container image that
 * {@code pom.xml} builds (ports, data folder, user).
 */
class KubernetesManifestsTest {
  static final Path DIR = Path.of("deploy", "kubernetes");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static final List<JsonNode> objects = new ArrayList<>();
  static JsonNode kustomization;
  static JsonNode statefulSet;
  static JsonNode container;
  static Map<String, JsonNode> env;

  @BeforeAll
  static void parse() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(f.toFile())) {
          while (docs.hasNext()) {
            JsonNode doc = docs.next();
            if (doc == null || doc.isNull() || doc.isEmpty()) {
              continue;
            }
            assertTrue(doc.hasNonNull("apiVersion") && doc.hasNonNull("kind"), f + ": a document without apiVersion and kind");
            if (doc.path("kind").asText().equals("Kustomization")) {
              kustomization = doc;
            } else {
              assertFalse(doc.path("metadata").path("name").asText().isEmpty(), f + ": " + doc.path("kind") + " without a name");
              objects.add(doc);
            }
          }
        }
      }
    }
    statefulSet = only("StatefulSet");
    container = statefulSet.path("spec").path("template").path("spec").path("containers").get(0);
    env = new HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
  }

  @Test
  void kustomizationListsEveryManifestAndSetsTheImage() throws IOException {
    assertNotNull(kustomization, "kustomization.yaml");
    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(r -> listed.add(r.asText()));
    Set<String> files = new TreeSet<>();
    try (Stream<Path> all = Files.list(DIR)) {
      all.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
          .forEach(files::add);
    }
    assertEquals(files, listed, "kustomization.yaml resources");
    String image = container.path("image").asText();
    assertEquals(image.substring(0, image.indexOf(':')), kustomization.path("images").get(0).path("name").asText(),
        "the kustomization's image entry names the StatefulSet's image");
  }

  @Test
  void kindsAndLabelsFitTogether() {
    Set<String> kinds = new TreeSet<>();
    objects.forEach(o -> kinds.add(o.path("kind").asText()));
    assertEquals(new TreeSet<>(List.of("PodDisruptionBudget", "Service", "StatefulSet")), kinds);
    JsonNode podLabels = statefulSet.path("spec").path("template").path("metadata").path("labels");
    assertMatches(statefulSet.path("spec").path("selector").path("matchLabels"), podLabels, "StatefulSet selector");
    for (JsonNode o : objects) {
      switch (o.path("kind").asText()) {
        case "Service" -> assertMatches(o.path("spec").path("selector"), podLabels, "Service " + name(o));
        case "PodDisruptionBudget" -> {
          assertMatches(o.path("spec").path("selector").path("matchLabels"), podLabels, "PodDisruptionBudget");
          assertEquals(1, o.path("spec").path("maxUnavailable").asInt(), "one pod away at a time (R=2)");
        }
        default -> { }
      }
    }
  }

  @Test
  void statefulSetGivesEveryPodItsOwnVolumeAndRemovesPodsOneAtATime() {
    JsonNode spec = statefulSet.path("spec");
    assertNotEquals("Parallel", spec.path("podManagementPolicy").asText("OrderedReady"),
        "a parallel scale-down would stop several nodes at once, possibly both owners of a repository");
    JsonNode claims = spec.path("volumeClaimTemplates");
    assertEquals(1, claims.size(), "one claim template");
    JsonNode claim = claims.get(0);
    assertEquals(List.of("ReadWriteOnce"), texts(claim.path("spec").path("accessModes")), "a disk of its own per pod");
    assertFalse(claim.path("spec").path("resources").path("requests").path("storage").asText().isEmpty(), "storage size");
    String claimName = claim.path("metadata").path("name").asText();
    JsonNode mount = null;
    for (JsonNode m : container.path("volumeMounts")) {
      if (m.path("name").asText().equals(claimName)) {
        mount = m;
      }
    }
    assertNotNull(mount, "the container mounts the claim");
    assertEquals(config().storage().dataDir().toString(), mount.path("mountPath").asText(), "the claim is the data folder");
    assertEquals(image().env.get("FLOTILLA_DATA_DIR"), mount.path("mountPath").asText(), "the image's data folder");
    assertEquals("Retain", spec.path("persistentVolumeClaimRetentionPolicy").path("whenScaled").asText("Retain"),
        "a scaled-down pod's data stays until the operator has confirmed the hand-off");
  }

  @Test
  void gracePeriodCoversTheHandoff() {
    long grace = statefulSet.path("spec").path("template").path("spec").path("terminationGracePeriodSeconds").asLong(30);
    long handoff = config().cluster().handoffTimeout().toSeconds();
    assertTrue(handoff >= io.flotilla.config.ClusterConfig.DEFAULT.handoffTimeout().toSeconds(),
        "the example keeps at least the default hand-off time");
    assertTrue(grace >= handoff, "terminationGracePeriodSeconds " + grace + " < cluster.handoffTimeout " + handoff + " s");
  }

  @Test
  void probesUseTheHealthEndpointsOnTheHttpPort() {
    int httpPort = config().http().port();
    assertEquals(httpPort, containerPort("http"), "the container's http port is http.port");
    assertProbe(container.path("readinessProbe"), "/health/ready");
    assertProbe(container.path("livenessProbe"), "/health/live");
    if (container.has("startupProbe")) {
      assertProbe(container.path("startupProbe"), "/health/live");
    }
  }

  @Test
  void portsAgreeWithTheConfigurationAndTheImage() {
    FlotillaConfig config = config();
    assertEquals(config.cluster().port(), containerPort("cluster"), "cluster.port");
    assertEquals(5801, containerPort("data"), "cluster.dataPort, the node-to-node data channel");
    Set<String> declared = new TreeSet<>();
    container.path("ports").forEach(p -> declared.add(p.path("containerPort").asInt() + "/tcp"));
    assertEquals(image().ports, declared, "the container declares exactly the ports the image exposes");
    JsonNode headless = service(true);
    assertEquals("None", headless.path("spec").path("clusterIP").asText());
    assertTrue(headless.path("spec").path("publishNotReadyAddresses").asBoolean(),
        "members must resolve before they are ready: a node is ready only once it has joined");
    assertEquals(statefulSet.path("spec").path("serviceName").asText(), name(headless), "the StatefulSet's service");
    for (JsonNode o : objects) {
      if (o.path("kind").asText().equals("Service")) {
        for (JsonNode p : o.path("spec").path("ports")) {
          JsonNode target = p.path("targetPort");
          int port = target.isInt() ? target.asInt() : containerPort(target.asText());
          assertTrue(port > 0, name(o) + " targets a port the container has: " + target);
        }
      }
    }
    assertEquals(List.of(config.http().port()), servicePorts(service(false)), "clients reach HTTP only");
  }

  @Test
  void membersAreThePodsOfTheHeadlessService() {
    assertEquals("metadata.name", env.get("FLOTILLA_NODE_NAME").path("valueFrom").path("fieldRef").path("fieldPath").asText(),
        "a node's name is its pod's stable name");
    assertEquals("status.podIP", env.get("FLOTILLA_CLUSTER_HOST").path("valueFrom").path("fieldRef").path("fieldPath").asText(),
        "Hazelcast and the event bus advertise the pod's address");
    FlotillaConfig config = config();
    List<String> members = config.cluster().members();
    assertFalse(members.isEmpty(), "FLOTILLA_CLUSTER_MEMBERS");
    String set = name(statefulSet);
    String service = statefulSet.path("spec").path("serviceName").asText();
    Pattern member = Pattern.compile(Pattern.quote(set) + "-(\\d+)\\." + Pattern.quote(service) + "(\\.[a-z0-9.-]+)?:(\\d+)");
    Set<Integer> ordinals = new HashSet<>();
    for (String m : members) {
      Matcher x = member.matcher(m);
      assertTrue(x.matches(), m + " is not <pod>.<headless service>:<port>");
      assertEquals(config.cluster().port(), Integer.parseInt(x.group(3)), m + ": the cluster port");
      ordinals.add(Integer.parseInt(x.group(1)));
    }
    assertTrue(ordinals.contains(0), "pod 0 (always there) is a member");
    int replicas = statefulSet.path("spec").path("replicas").asInt(1);
    ordinals.forEach(o -> assertTrue(o < replicas, "member " + o + " is beyond the initial replicas " + replicas));
  }

  @Test
  void podRunsAsTheImagesNonRootUser() {
    JsonNode pod = statefulSet.path("spec").path("template").path("spec").path("securityContext");
    assertTrue(pod.path("runAsNonRoot").asBoolean(), "runAsNonRoot");
    String user = image().user;
    assertEquals(Long.parseLong(user.split(":")[0]), pod.path("runAsUser").asLong(), "the image's user");
    assertNotEquals(0, pod.path("runAsUser").asLong());
    assertTrue(pod.path("fsGroup").asLong() > 0, "fsGroup makes the volume writable for the node");
    JsonNode c = container.path("securityContext");
    assertFalse(c.path("allowPrivilegeEscalation").asBoolean(true), "allowPrivilegeEscalation");
    assertEquals(List.of("ALL"), texts(c.path("capabilities").path("drop")));
    if (c.path("readOnlyRootFilesystem").asBoolean()) {
      Set<String> mounts = new HashSet<>();
      container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
      assertTrue(mounts.contains("/tmp"), "a read-only root needs a writable /tmp (RocksDB's native library)");
    }
  }

  @Test
  void memoryLimitLeavesRoomBeyondTheHeap() {
    JsonNode resources = container.path("resources");
    long request = bytes(resources.path("requests").path("memory").asText());
    long limit = bytes(resources.path("limits").path("memory").asText());
    Matcher xmx = Pattern.compile("-Xmx(\\d+)([kmg])").matcher(env.get("JDK_JAVA_OPTIONS").path("value").asText());
    assertTrue(xmx.find(), "the pod sets the heap explicitly");
    long heap = Long.parseLong(xmx.group(1)) << switch (xmx.group(2)) { case "k" -> 10; case "m" -> 20; default -> 30; };
    assertTrue(request > 0 && limit >= request, "memory request and limit");
    // RocksDB's cache and memtables (~64 MiB), metaspace, threads and the JVM's own: docs/configuration.md#jvm
    assertTrue(limit >= heap + (256L << 20), "limit " + limit + " leaves less than 256 MiB beyond a heap of " + heap);
  }

  /** The node configuration the pod's literal FLOTILLA_* variables make, validated by the node's own loader. */
  static FlotillaConfig config() {
    Map<String, String> values = new HashMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith("FLOTILLA_") && v.has("value")) {
        values.put(k, v.path("value").asText());
      }
    });
    values.put("FLOTILLA_NODE_NAME", name(statefulSet) + "-0"); // from the pod's name
    values.put("FLOTILLA_CLUSTER_HOST", "10.0.0.1");            // from the pod's IP
    return ConfigLoader.load(null, values);
  }

  /** What pom.xml's Jib configuration puts in the image's config. */
  record Image(String user, Set<String> ports, Map<String, String> env) {}

  static Image image() {
    try {
      var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
      NodeList plugins = doc.getElementsByTagName("plugin");
      for (int i = 0; i < plugins.getLength(); i++) {
        Element plugin = (Element) plugins.item(i);
        if (!child(plugin, "artifactId").getTextContent().equals("jib-maven-plugin")) {
          continue;
        }
        Element c = child(child(plugin, "configuration"), "container");
        Set<String> ports = new TreeSet<>();
        NodeList ps = child(c, "ports").getElementsByTagName("port");
        for (int j = 0; j < ps.getLength(); j++) {
          ports.add(ps.item(j).getTextContent().trim() + "/tcp");
        }
        Map<String, String> environment = new HashMap<>();
        for (Node n = child(c, "environment").getFirstChild(); n != null; n = n.getNextSibling()) {
          if (n instanceof Element e) {
            environment.put(e.getTagName(), e.getTextContent().trim());
          }
        }
        return new Image(child(c, "user").getTextContent().trim(), ports, environment);
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the image configuration from pom.xml", e);
    }
    throw new IllegalStateException("pom.xml has no jib-maven-plugin");
  }

  private static Element child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e;
      }
    }
    throw new IllegalStateException("<" + parent.getTagName() + "> has no <" + name + ">");
  }

  private static JsonNode only(String kind) {
    List<JsonNode> found = objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    assertEquals(1, found.size(), "one " + kind);
    return found.get(0);
  }

  private static JsonNode service(boolean headless) {
    List<JsonNode> found = objects.stream().filter(o -> o.path("kind").asText().equals("Service"))
        .filter(o -> o.path("spec").path("clusterIP").asText().equals("None") == headless).toList();
    assertEquals(1, found.size(), (headless ? "one headless" : "one client") + " Service");
    return found.get(0);
  }

  private static List<Integer> servicePorts(JsonNode service) {
    List<Integer> out = new ArrayList<>();
    service.path("spec").path("ports").forEach(p -> out.add(p.path("port").asInt()));
    return out;
  }

  private static int containerPort(String name) {
    for (JsonNode p : container.path("ports")) {
      if (p.path("name").asText().equals(name)) {
        return p.path("containerPort").asInt();
      }
    }
    return -1;
  }

  private static void assertProbe(JsonNode probe, String path) {
    assertEquals(path, probe.path("httpGet").path("path").asText(), "probe path");
    JsonNode port = probe.path("httpGet").path("port");
    assertEquals(containerPort("http"), port.isInt() ? port.asInt() : containerPort(port.asText()), path + " on the http port");
  }

  private static void assertMatches(JsonNode selector, JsonNode labels, String what) {
    assertFalse(selector.isEmpty(), what + " selects something");
    selector.fields().forEachRemaining(e ->
        assertEquals(e.getValue().asText(), labels.path(e.getKey()).asText(null), what + " selects the pods: " + e.getKey()));
  }

  private static String name(JsonNode o) {
    return o.path("metadata").path("name").asText();
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** Kubernetes quantities as used here: Ki, Mi, Gi or plain bytes. */
  private static long bytes(String quantity) {
    Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi)?").matcher(quantity);
    assertTrue(m.matches(), "quantity " + quantity);
    long n = Long.parseLong(m.group(1));
    return m.group(2) == null ? n : n << switch (m.group(2)) { case "Ki" -> 10; case "Mi" -> 20; default -> 30; };
  }
}
