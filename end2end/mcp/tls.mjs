// A throwaway certificate authority and a server certificate for
// 127.0.0.1, made with the openssl CLI: an https server on loopback that a
// process started with SSL_CERT_FILE=<ca> trusts, and nothing else does.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function loopbackCertificate(dir) {
  const path = (name) => join(dir, name);
  const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ecKey, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
    "-subj", "/CN=acekeys test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", ...ecKey, "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(path("server.ext"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
  openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
    "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"));
  return { caFile: path("ca.pem"), key: readFileSync(path("server.key")), cert: readFileSync(path("server.pem")) };
}
