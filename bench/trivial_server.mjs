// The load generator's calibration target: Node's http answering a fixed small JSON body.
// Usage: node trivial_server.mjs PORT   (prints {"url": ...} once listening on 127.0.0.1)
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = JSON.stringify({ access_token: 'x'.repeat(32), token_type: 'Bearer', expires_in: 900 });
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/` })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
