/**
 * Container HEALTHCHECK for the distroless images, which have no shell or curl:
 * `node healthcheck.js [/readyz]` exits 0 when the service answers 200 on HTTP_PORT.
 */
import * as http from 'http';

const path = process.argv[2] ?? '/readyz';
const port = Number(process.env.HTTP_PORT ?? 8080);

const req = http.get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  console.error(`healthcheck ${path} on :${port} failed: ${err.message}`);
  process.exit(1);
});
