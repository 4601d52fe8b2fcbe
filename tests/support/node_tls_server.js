// A Node.js TLS server for the TLS-version tests (tests/integration/test_tls_versions_node.py).
//
// node node_tls_server.js KIND OPTIONS_JSON CERT KEY PORT
//   KIND "h2":  http2.createSecureServer(OPTIONS), answering every request 200 "ok" over
//               HTTP/2 (with allowHTTP1: false, a server that will not serve HTTP/1.1);
//   KIND "tls": tls.createServer(OPTIONS), closing each connection after the handshake.
// Listens on 127.0.0.1:PORT.
"use strict";
const fs = require("fs");
const http2 = require("http2");
const tls = require("tls");

const [kind, optionsJson, certFile, keyFile, port] = process.argv.slice(2);
const options = Object.assign(JSON.parse(optionsJson), {
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
});
const server =
  kind === "h2"
    ? http2.createSecureServer(options, (request, response) => {
        response.setHeader("content-type", "text/plain");
        response.end("ok");
      })
    : tls.createServer(options, (socket) => socket.end());
server.on("tlsClientError", () => {}); // refused handshakes are the point
server.listen(Number(port), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
