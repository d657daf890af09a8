"""A service to probe: /ok answers 200 "ok", /fail 500, /slow 200 after 0.6 s; TLS on a second port."""

import http.server
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/slow":
            time.sleep(0.6)
        status = 500 if self.path == "/fail" else 200
        body = b"ok\n" if status == 200 else b"broken\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    address, http_port, tls_port, cert, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    plain = http.server.ThreadingHTTPServer((address, http_port), Handler)
    secure = http.server.ThreadingHTTPServer((address, tls_port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    threading.Thread(target=secure.serve_forever, daemon=True).start()
    plain.serve_forever()


if __name__ == "__main__":
    main()
