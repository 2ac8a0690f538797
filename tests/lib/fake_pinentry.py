#!/usr/bin/python3
"""A pinentry for tests: the server side of GnuPG's Assuan protocol, as
pinentry-curses speaks it on its stdin and stdout.

Environment:
  FAKE_PINENTRY_LOG   file to which every command line received is appended,
                      with its argument percent-decoded ("SETDESC <text>")
  FAKE_PINENTRY_PIN   the PIN GETPIN answers, sent percent-escaped byte by
                      byte and split over two data lines, so the client must
                      decode and join them
  FAKE_PINENTRY_MODE  what GETPIN gets: "ok" (default); "cancel":
                      "ERR 83886179 Operation cancelled <Pinentry>"; "exit":
                      no answer, the program ends; "nul": a PIN holding a
                      NUL byte ("D 12%0034"); "long": a 2000-byte line

It refuses to run unless its stdin and stdout are one socket (the plugin's
own stdin and stdout carry notation's JSON and must never reach it).
"""
import os
import socket
import stat
import sys
import urllib.parse

log = open(os.environ["FAKE_PINENTRY_LOG"], "a")
mode = os.environ.get("FAKE_PINENTRY_MODE", "ok")
pin = os.environ.get("FAKE_PINENTRY_PIN", "").encode()

if not (stat.S_ISSOCK(os.fstat(0).st_mode) and stat.S_ISSOCK(os.fstat(1).st_mode)):
    log.write("NOT A SOCKET\n")
    sys.exit(2)
inp = os.fdopen(0, "rb", buffering=0)
out = os.fdopen(1, "wb", buffering=0)


def say(line):
    out.write(line.encode() + b"\n")


say("OK Pleased to meet you")
buf = b""
while True:
    chunk = inp.read(4096)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        raw, buf = buf.split(b"\n", 1)
        cmd, _, arg = raw.decode("utf-8", "replace").partition(" ")
        # One line per command: a newline in the text shows as "\\n".
        log.write("%s %s\n" % (cmd, urllib.parse.unquote(arg).replace("\n", "\\n")))
        log.flush()
        if cmd == "GETPIN":
            if mode == "cancel":
                say("ERR 83886179 Operation cancelled <Pinentry>")
                continue
            if mode == "exit":
                sys.exit(0)
            if mode == "nul":
                say("D 12%0034")
                say("OK")
                continue
            if mode == "long":
                say("S " + "x" * 2000)
                continue
            esc = "".join("%%%02X" % b for b in pin)
            half = (len(pin) // 2) * 3
            say("# the PIN follows")
            say("D " + esc[:half])
            say("D " + esc[half:])
            say("OK")
        elif cmd == "BYE":
            say("OK closing connection")
            sys.exit(0)
        elif cmd in ("OPTION", "SETDESC", "SETPROMPT", "SETTITLE", "SETERROR"):
            say("OK")
        else:
            say("ERR 536871187 Unknown IPC command <User defined source 1>")
