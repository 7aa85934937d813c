#!/usr/bin/env bash
# Makes a throwaway CA and server certificates for the TLS tests, into DIR (created), valid for a day:
#   ca.pem ca.key                  the test CA (trusted by the tests only: --cacert, NODE_EXTRA_CA_CERTS,
#                                  ClientOptions::tls_ca_file)
#   a.pem a.key, b.pem b.key       leaf certificates for localhost and 127.0.0.1 (CN igniter-test-a / -b:
#                                  a reload swaps one for the other)
#   other.pem other.key            a leaf for example.invalid only (host name mismatch)
#   spki.txt                       base64 SHA-256 of a's public key (Chromium's
#                                  --ignore-certificate-errors-spki-list)
# Nothing here is committed: every run makes new keys. Usage: make_test_ca.sh DIR
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.pem -days 1 -subj "/CN=igniter-cpp test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() {  # name subjectAltName
  openssl req "${curve[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=igniter-test-$1" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile "$1.ext" \
    -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
leaf a "DNS:localhost,IP:127.0.0.1"
leaf b "DNS:localhost,IP:127.0.0.1"
leaf other "DNS:example.invalid"
openssl x509 -in a.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
  openssl enc -base64 >spki.txt
