// A Node.js WebSocket endpoint written as the `ws` package's README writes one:
// an https (HTTP/1.1 only) and an http server, a WebSocketServer with
// noServer, and an 'upgrade' handler that authenticates before ws sees the
// request (the README's "client authentication" example):
//   /ws      an echo;
//   /origin  refuses a handshake without Origin: 403, then destroys the socket;
//   /destroy destroys the socket without answering.
// Plain requests get a 426 problem document. Run:
//   NODE_PATH=DIR/node_modules node node_ws_server.js CERT KEY TLS_PORT PLAIN_PORT
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const [cert, key, tlsPort, plainPort] = process.argv.slice(2);
const problem = JSON.stringify({
  type: 'about:blank', title: 'Upgrade Required', status: 426,
  detail: 'This endpoint is a WebSocket: connect with a WebSocket client.',
});

const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

function plain(req, res) {
  res.writeHead(426, {
    Upgrade: 'websocket', Connection: 'Upgrade', 'Content-Type': 'application/problem+json',
  });
  res.end(problem);
}

function upgrade(req, socket, head) {
  socket.on('error', () => {});
  if (req.url === '/destroy') {
    socket.destroy();
    return;
  }
  if (req.url === '/origin' && !req.headers.origin) {
    socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
}

const servers = [
  [https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, plain), tlsPort],
  [http.createServer(plain), plainPort],
];
for (const [server, port] of servers) {
  server.on('upgrade', upgrade);
  server.listen(Number(port), '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
