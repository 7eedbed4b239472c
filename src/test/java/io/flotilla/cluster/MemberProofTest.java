package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.Messages.MembershipProof;
import io.flotilla.config.ConfigException;
import io.flotilla.config.TlsFiles;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks of a membership proof, and the TLS options a cluster certificate gives. */
class MemberProofTest {
  private static final UUID MEMBER = UUID.randomUUID();

  @Test
  void aReplyProvesTheMemberOnlyWithTheNonceItsNameAndItsUuid() {
    assertNull(MemberProof.mismatch(new MembershipProof("n1", "node-1", MEMBER.toString()), "n1", "node-1", MEMBER));
    assertNotNull(MemberProof.mismatch(new MembershipProof("n0", "node-1", MEMBER.toString()), "n1", "node-1", MEMBER),
        "an old or guessed nonce");
    assertNotNull(MemberProof.mismatch(new MembershipProof("n1", "node-2", MEMBER.toString()), "n1", "node-1", MEMBER),
        "another node's answer relayed");
    assertNotNull(MemberProof.mismatch(new MembershipProof("n1", "node-1", UUID.randomUUID().toString()), "n1", "node-1",
        MEMBER), "the real node-1 answering for a member that took its name");
    assertNotNull(MemberProof.mismatch(new MembershipProof(null, null, null), "n1", "node-1", MEMBER));
  }

  @Test
  void theEventBusGetsMutualTlsAgainstTheClusterCaOnly(@TempDir Path dir) throws Exception {
    Path cert = Files.writeString(dir.resolve("node.pem"), "x");
    Path key = Files.writeString(dir.resolve("node-key.pem"), "x");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
    EventBusOptions bus = ClusterTls.of(new TlsFiles(cert, key, ca)).applyTo(new EventBusOptions());
    assertTrue(bus.isSsl());
    assertEquals(ClientAuth.REQUIRED, bus.getClientAuth());
    assertEquals(false, bus.isTrustAll());
    assertEquals(List.of(cert.toString()), ((PemKeyCertOptions) bus.getKeyCertOptions()).getCertPaths());
    assertEquals(List.of(key.toString()), ((PemKeyCertOptions) bus.getKeyCertOptions()).getKeyPaths());
    assertEquals(List.of(ca.toString()), ((PemTrustOptions) bus.getTrustOptions()).getCertPaths());
  }

  @Test
  void noFilesMeansOffAndAnUnreadableFileFailsAtStart(@TempDir Path dir) {
    assertNull(ClusterTls.of(null));
    ConfigException e = assertThrows(ConfigException.class, () -> ClusterTls.of(
        new TlsFiles(dir.resolve("missing.pem"), dir.resolve("k.pem"), dir.resolve("ca.pem"))));
    assertTrue(e.getMessage().contains("cluster.tls.cert"), e.getMessage());
  }
}
