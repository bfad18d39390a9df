#!/usr/bin/env python3
"""relp_send.py - a raw-socket RELP client for the fault tests.

    relp_send.py [-t SECONDS] PORT FILE...

Opens one RELP session to 127.0.0.1:PORT (open/rsp handshake, relp_version
0), then sends the bytes of each FILE, exactly as they are (any size, any
bytes), as one `syslog` frame and waits up to SECONDS (default 120) for its
response.  Prints "acked FILE" for a "200 OK" response; exits 1 with
"no ack FILE: ..." on another response, a closed connection or a timeout,
and then sends nothing more.  Closes the session at the end.

Framing (reference/formats.md 3.2): TXNR SP COMMAND SP DATALEN [SP DATA] LF.
"""
import socket
import sys


class Relp:
    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.txnr = 0

    def send(self, cmd, data):
        self.txnr += 1
        head = b"%d %s %d" % (self.txnr, cmd, len(data))
        self.s.sendall(head + (b" " + data if data else b"") + b"\n")
        return self.txnr

    def _need(self, n):
        while len(self.buf) < n:
            b = self.s.recv(65536)
            if not b:
                raise EOFError("connection closed")
            self.buf += b

    def _token(self):
        while True:
            i = self.buf.find(b" ")
            j = self.buf.find(b"\n")
            ends = [k for k in (i, j) if k >= 0]
            if ends:
                k = min(ends)
                tok, self.buf = self.buf[:k], self.buf[k:]
                return tok
            self._need(len(self.buf) + 1)

    def frame(self):
        txnr = int(self._token())
        self.buf = self.buf[1:]
        cmd = self._token()
        self.buf = self.buf[1:]
        n = int(self._token())
        data = b""
        if n:
            self._need(1 + n)
            data, self.buf = self.buf[1 : 1 + n], self.buf[1 + n :]
        self._need(1)
        if self.buf[:1] != b"\n":
            raise ValueError("bad frame trailer")
        self.buf = self.buf[1:]
        return txnr, cmd, data

    def call(self, cmd, data):
        t = self.send(cmd, data)
        while True:
            txnr, rcmd, rdata = self.frame()
            if txnr == t and rcmd == b"rsp":
                return rdata


def main():
    args = sys.argv[1:]
    timeout = 120.0
    if args[:1] == ["-t"]:
        timeout = float(args[1])
        args = args[2:]
    port, files = int(args[0]), args[1:]
    r = Relp(port, timeout)
    offer = b"relp_version=0\nrelp_software=tg-relp-send\ncommands=syslog"
    if not r.call(b"open", offer).startswith(b"200 OK"):
        print("open refused")
        return 1
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        try:
            rsp = r.call(b"syslog", data)
        except (OSError, EOFError, ValueError) as e:
            print("no ack %s: %s" % (f, e), flush=True)
            return 1
        if not rsp.startswith(b"200 OK"):
            print("no ack %s: %r" % (f, rsp[:80]), flush=True)
            return 1
        print("acked %s" % f, flush=True)
    try:
        r.call(b"close", b"")
    except (OSError, EOFError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
