// One origin for zui: static files of zui's build, /v2/* proxied to a Flotilla node. Nothing else answered.
// node serve.mjs <zui build dir> <listen port> <node base url>   e.g. node serve.mjs /tmp/zui/build 8088 http://127.0.0.1:5055
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [dir, port, upstream] = [process.argv[2], Number(process.argv[3] || 8088), new URL(process.argv[4] || 'http://127.0.0.1:5000')];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.json': 'application/json', '.ttf': 'font/ttf', '.woff': 'font/woff', '.woff2': 'font/woff2' };

http.createServer((req, res) => {
  if (req.url.startsWith('/v2/')) {
    const p = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method,
      headers: { ...req.headers, host: upstream.host } }, (r) => {
      console.log(`proxy ${req.method} ${decodeURIComponent(req.url).slice(0, 160)} -> ${r.statusCode}`);
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    p.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(p);
    return;
  }
  let f = path.join(dir, path.normalize(decodeURIComponent(req.url.split('?')[0])));
  if (!f.startsWith(dir) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) f = path.join(dir, 'index.html'); // SPA routes
  res.writeHead(200, { 'content-type': types[path.extname(f)] || 'application/octet-stream' });
  fs.createReadStream(f).pipe(res);
}).listen(port, '127.0.0.1', () => console.log(`zui on http://127.0.0.1:${port}/ -> ${upstream.href}`));
