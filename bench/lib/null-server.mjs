// A do-nothing JSON-RPC server used to measure the load generator's own ceiling
// (`npm run bench` runs it as a child process on a free loopback port: node null-server.mjs <port>).
import http from 'node:http'

const port = Number(process.argv[2])
const result = '0x' + '0'.repeat(63) + '1'
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    let id = null
    try {
      id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id ?? null
    } catch {}
    const out = JSON.stringify({jsonrpc: '2.0', id, result})
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(out)})
    res.end(out)
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
