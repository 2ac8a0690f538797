"""What the loopback mocks (azure_mock, gcp_mock, vault_mock) share: their
listeners on 127.0.0.1, plain HTTP or HTTPS with a test certificate, each
served from a daemon thread so the mock's main thread only sleeps out its
lifetime."""
import ssl
import threading
from http.server import ThreadingHTTPServer


def https_listener(argv, client_ca=None):
    """The listener "--https PORT CERT KEY" asks for, PORT CERT KEY popped
    from argv: (port, server TLS context). With client_ca a client
    certificate is asked for and checked, but not required."""
    port, cert, key = int(argv.pop(0)), argv.pop(0), argv.pop(0)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(client_ca)
    return port, ctx


def serve(handler, port, ctx=None):
    """Serves handler on 127.0.0.1:port, over TLS when ctx is set, from a
    daemon thread (returned, started)."""
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return t
