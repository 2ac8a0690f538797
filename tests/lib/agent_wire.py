#!/usr/bin/python3
"""Test clients for notation-keystore's agent socket (tests/integration/
65-agent.sh): a recording relay and hostile clients. The wire format is
plugin/agent/wire.h: a 4-byte big-endian length, then version 1, a type
byte and the fields (u8, big-endian u32, u32-length-prefixed strings).

  agent_wire.py relay LISTEN AGENT LOG
      listens on LISTEN and relays every connection to the agent at AGENT,
      descriptors (SCM_RIGHTS) included, appending every byte that passes
      either way to LOG; runs until killed
  agent_wire.py hostile MODE AGENT [ARGS]
      one misbehaving client; prints one line saying what the agent did:
      huge       a header announcing a 2 GiB frame
      garbage    64 random bytes
      stall S    2 bytes of a header, then nothing for S seconds
      idle N S   N connections that send nothing, held S seconds
      fds        a LIST with two descriptors beside it
      fifo       an ADD with a FIFO whose writer stays open
      pinfd      a LIST with a pipe beside it (a PIN only goes with ADD
                 or UNLOCK); prints the reply's kind and "why"
      list       a well-formed LIST (for the uid check)
"""
import os
import socket
import struct
import sys
import threading
import time

LIST, ADD = 5, 3
FAIL, KEYS = 64, 68


def frame(t, body=b""):
    b = bytes([1, t]) + body
    return struct.pack(">I", len(b)) + b


def s(v):
    v = v.encode() if isinstance(v, str) else v
    return struct.pack(">I", len(v)) + v


def connect(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(20)
    c.connect(path)
    return c


def read_reply(c):
    """(type, body) of one reply, or None when the agent closed first."""
    head = b""
    while len(head) < 4:
        d = c.recv(4 - len(head))
        if not d:
            return None
        head += d
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        d = c.recv(n - len(body))
        if not d:
            return None
        body += d
    return body[1], body


def closed_after(c):
    """Reads replies until EOF: 'closed' (after a FAIL, if one came)."""
    saw = []
    while True:
        try:
            r = read_reply(c)
        except (ConnectionResetError, socket.timeout) as e:
            return f"error {type(e).__name__}"
        if r is None:
            return "closed" + (" after FAIL" if FAIL in saw else "")
        saw.append(r[0])


def relay(listen, agent, log):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen)
    srv.listen(64)
    lock = threading.Lock()

    def pump(a, b):
        try:
            while True:
                data, fds, _, _ = socket.recv_fds(a, 65536, 4)
                if not data:
                    break
                with lock, open(log, "ab") as f:
                    f.write(data)
                if fds:
                    socket.send_fds(b, [data], fds)
                    for fd in fds:
                        os.close(fd)
                else:
                    b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    while True:
        c, _ = srv.accept()
        u = connect(agent)
        u.settimeout(None)
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def hostile(mode, path, args):
    if mode == "idle":
        n, secs = int(args[0]), float(args[1])
        conns = [connect(path) for _ in range(n)]
        print(f"holding {len(conns)}", flush=True)
        time.sleep(secs)
        return
    try:
        c = connect(path)
    except OSError as e:
        print(f"cannot connect: {type(e).__name__}")
        return
    if mode == "huge":
        c.sendall(struct.pack(">I", 0x7FFFFFFF) + b"\x01\x05")
        print(closed_after(c))
    elif mode == "garbage":
        c.sendall(os.urandom(64))
        print(closed_after(c))
    elif mode == "stall":
        c.sendall(b"\x00\x00")
        t0 = time.time()
        c.settimeout(float(args[0]))
        try:
            d = c.recv(1)
            print(f"closed after {time.time() - t0:.0f} s" if not d else "data")
        except socket.timeout:
            print("still open")
    elif mode == "fds":
        r, w = os.pipe()
        socket.send_fds(c, [frame(LIST)], [r, w])
        print(closed_after(c))
    elif mode == "fifo":
        d = os.path.join(args[0], "fifo")
        os.mkfifo(d)
        rfd = os.open(d, os.O_RDONLY | os.O_NONBLOCK)
        wfd = os.open(d, os.O_WRONLY)  # kept open: the agent must not wait
        body = s("pkcs11:object=x") + struct.pack(">II", 0, 0)
        t0 = time.time()
        socket.send_fds(c, [frame(ADD, body)], [rfd])
        r = read_reply(c)
        took = time.time() - t0
        kind = "none" if r is None else ("FAIL" if r[0] == FAIL else r[0])
        print(f"{kind} in {took:.1f} s")
        os.close(wfd)
    elif mode == "pinfd":
        r, w = os.pipe()
        os.write(w, b"1234")
        os.close(w)
        socket.send_fds(c, [frame(LIST)], [r])
        rep = read_reply(c)
        print("none" if rep is None else
              f"FAIL why {rep[1][3]}" if rep[0] == FAIL else f"type {rep[0]}")
    elif mode == "list":
        try:
            c.sendall(frame(LIST))
            r = read_reply(c)
        except OSError as e:
            print(f"error {type(e).__name__}")
            return
        print("refused" if r is None else
              ("KEYS" if r[0] == KEYS else f"type {r[0]}"))
    else:
        sys.exit(f"unknown mode {mode}")


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "relay":
        relay(a[1], a[2], a[3])
    elif len(a) >= 3 and a[0] == "hostile":
        hostile(a[1], a[2], a[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
