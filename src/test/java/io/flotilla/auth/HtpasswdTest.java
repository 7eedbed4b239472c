package io.flotilla.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCrypt;

class HtpasswdTest {
  @Test
  void bcryptEntriesOfEveryPrefixVerify() {
    String a = BCrypt.hashpw("pw-a", BCrypt.gensalt(4));
    String y = a.replace("$2a$", "$2y$");
    String b = a.replace("$2a$", "$2b$");
    Htpasswd h = Htpasswd.parse("test", List.of("# users", "", "alice:" + a, "yves:" + y, "bea:" + b));
    assertTrue(h.check("alice", "pw-a"));
    assertTrue(h.check("yves", "pw-a"));
    assertTrue(h.check("bea", "pw-a"));
    assertFalse(h.check("alice", "pw-b"));
    assertFalse(h.check("nobody", "pw-a"));
    assertFalse(h.check("alice", ""));
  }

  @Test
  void otherHashKindsAreRefusedNamingTheLine() {
    String good = "alice:" + BCrypt.hashpw("x", BCrypt.gensalt(4));
    for (String bad : List.of("bob:$apr1$abcdefgh$0123456789012345678901", "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
        "bob:plaintext", "bob:$6$salt$hash", "bob:$2y$10$short", "bob")) {
      ConfigException e = assertThrows(ConfigException.class, () -> Htpasswd.parse("f", List.of(good, bad)));
      assertTrue(e.getMessage().contains("auth.htpasswd") && e.getMessage().contains("line 2"), e.getMessage());
      assertFalse(e.getMessage().contains("0123456789012345678901") || e.getMessage().contains("W6ph5Mm5"),
          "the hash itself is not echoed: " + e.getMessage());
    }
  }

  @Test
  void reservedOrDuplicateUsersAreRefused() {
    String hash = BCrypt.hashpw("x", BCrypt.gensalt(4));
    assertThrows(ConfigException.class, () -> Htpasswd.parse("f", List.of("anonymous:" + hash)));
    assertThrows(ConfigException.class, () -> Htpasswd.parse("f", List.of("a:" + hash, "a:" + hash)));
  }
}
