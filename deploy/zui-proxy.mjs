// zui-proxy.mjs: serve a zui build (zot's web UI) and a Flotilla node from one origin, for checking
// the UI by hand (docs/search.md, "Checking zot's UI"). Only node's built-in modules.
//   node deploy/zui-proxy.mjs <zui build dir> <upstream http://host:port> [listen port] [log file]
// /v2/, /zot/ and /auth/ go to the upstream (headers and body passed through); every other path is a
// file of the build, or index.html (zui routes on the client). Each forwarded request is logged as
// "METHOD status decoded-url" to the log file (default: standard output).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [buildDir, upstreamArg, portArg = '3000', logFile] = process.argv.slice(2);
if (!buildDir || !upstreamArg) {
  console.error('usage: node zui-proxy.mjs <zui build dir> <upstream http://host:port> [port] [log file]');
  process.exit(2);
}
const upstream = new URL(upstreamArg);
const root = path.resolve(buildDir);
const log = logFile ? (line) => fs.appendFileSync(logFile, line + '\n') : (line) => console.log(line);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.txt': 'text/plain' };

function forward(req, res) {
  const headers = { ...req.headers, host: upstream.host };
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
      let url = req.url;
      try { url = decodeURIComponent(req.url); } catch { /* keep it raw */ }
      log(`${req.method} ${up.statusCode} ${url}`);
    });
  out.on('error', (e) => { res.writeHead(502); res.end(String(e)); log(`${req.method} 502 ${req.url} ${e}`); });
  req.pipe(out);
}

function serveStatic(req, res) {
  const p = path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  let file = path.join(root, p);
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(root, 'index.html');
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}

http.createServer((req, res) => {
  if (/^\/(v2|zot|auth)(\/|$)/.test(req.url)) forward(req, res);
  else serveStatic(req, res);
}).listen(Number(portArg), '127.0.0.1', () => console.log(`zui on http://127.0.0.1:${portArg} -> ${upstream.origin}`));
