#!/usr/bin/env bash
# Creates the certificates of a Flotilla cluster (cluster TLS, see docs/security.md):
#   a CA, and one certificate per node signed by it.
#
#   cluster-config/make-certs.sh OUT_DIR NODE [NODE...]
#
# Writes OUT_DIR/ca.pem and ca-key.pem (keep ca-key.pem offline: whoever holds it can mint members),
# and for each NODE: OUT_DIR/NODE.pem (certificate) and OUT_DIR/NODE-key.pem (PKCS#8 private key).
# Each node certificate carries SAN DNS:NODE and IP:127.0.0.1, plus any of CERT_EXTRA_SAN
# (e.g. CERT_EXTRA_SAN="IP:10.0.0.5,DNS:node-1.internal"); nodes verify each other against the CA,
# not by host name, so the SAN is for information and for other tools.
# Configure each node with
#   cluster.tls.cert=OUT_DIR/NODE.pem  cluster.tls.key=OUT_DIR/NODE-key.pem  cluster.tls.ca=OUT_DIR/ca.pem
# Re-running with an existing OUT_DIR/ca.pem adds node certificates signed by the same CA.
# DAYS (default 825) sets the validity.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OUT_DIR NODE [NODE...]" >&2
  exit 2
fi
out=$1
shift
days=${DAYS:-825}
mkdir -p "$out"
umask 077
if [ ! -f "$out/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=flotilla-cluster-ca" -keyout "$out/ca-key.pem" -out "$out/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "created $out/ca.pem"
fi
for node in "$@"; do
  san="DNS:$node,IP:127.0.0.1${CERT_EXTRA_SAN:+,$CERT_EXTRA_SAN}"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$node" \
    -keyout "$out/$node-key.tmp" -out "$out/$node.csr" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$out/$node-key.tmp" -out "$out/$node-key.pem"
  rm -f "$out/$node-key.tmp"
  ext=$(mktemp)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" >"$ext"
  openssl x509 -req -in "$out/$node.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$out/$node.pem" 2>/dev/null
  rm -f "$ext" "$out/$node.csr"
  echo "created $out/$node.pem ($san)"
done
chmod 644 "$out"/*.pem
chmod 600 "$out"/*-key.pem
